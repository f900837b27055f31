using System.Collections.Concurrent;

namespace S3Block.ObjectStore.Local;

/// <summary>
/// Serializes the short "check, then rename or delete" step of every mutation of one store folder, across the
/// threads of this process and across processes, so conditional writes have exactly one winner.
/// </summary>
/// <remarks>
/// In-process: one semaphore per folder. Across processes: an exclusive open of <c>.lock</c> in the folder, which .NET
/// implements with <c>flock(LOCK_EX|LOCK_NB)</c>; a busy lock is retried after a short sleep. Content is written to a
/// temporary file before the lock is taken, so the critical section is a header read plus a rename.
/// </remarks>
internal sealed class StoreMutationLock
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> InProcess = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate;
    private readonly string _lockFile;

    public StoreMutationLock(string root)
    {
        _gate = InProcess.GetOrAdd(root, _ => new SemaphoreSlim(1, 1));
        _lockFile = Path.Combine(root, ".lock");
    }

    public async Task<IDisposable> AcquireAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    var handle = new FileStream(_lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                    return new Held(this, handle);
                }
                catch (IOException)
                {
                    // Another process holds it; the critical section is a rename, so it is free again soon.
                    await Task.Delay(2, cancellationToken);
                }
            }
        }
        catch
        {
            _gate.Release();
            throw;
        }
    }

    private sealed class Held(StoreMutationLock owner, FileStream handle) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                handle.Dispose();
                owner._gate.Release();
            }
        }
    }
}
