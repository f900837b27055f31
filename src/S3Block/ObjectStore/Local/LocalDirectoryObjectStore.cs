using S3Block.Cache.Platform;

namespace S3Block.ObjectStore.Local;

/// <summary>
/// An <see cref="IObjectStore"/> in a local folder: the embedded default store, so the product can be tried
/// without a cloud account, and the in-process reference for the contract tests that S3 must also pass.
/// </summary>
/// <remarks>
/// <para>Durability: content goes to a temporary file that is fsynced, renamed into place, and the folder is fsynced,
/// so a PUT that returned survives power loss and a crash never leaves a half-written object under its key.</para>
/// <para>Conditions: create-only and compare-and-swap are decided under <see cref="StoreMutationLock"/>, giving
/// S3's semantics (412 to all but one racer) across threads and processes.</para>
/// </remarks>
public sealed class LocalDirectoryObjectStore : IObjectStore
{
    private const string TempFolderName = ".tmp";
    private readonly string _root;
    private readonly string _tempFolder;
    private readonly StoreMutationLock _mutationLock;

    public LocalDirectoryObjectStore(string rootFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootFolder);
        _root = Path.GetFullPath(rootFolder);
        _tempFolder = Path.Combine(_root, TempFolderName);
        Directory.CreateDirectory(_tempFolder);
        _mutationLock = new StoreMutationLock(_root);
    }

    public string Location => $"file://{_root}";

    public Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(key);
        using var file = OpenExisting(path, "GET", key);
        var (etag, size) = LocalObjectFile.ReadHeader(file, path);
        long offset = 0, length = size;
        if (range is { } r)
        {
            if (r.Offset >= size)
            {
                throw new ObjectStoreException(ObjectStoreErrorKind.InvalidRange, "GET", key,
                    $"range starts at {r.Offset} but the object has {size} bytes") { ErrorCode = "InvalidRange" };
            }

            offset = r.Offset;
            length = Math.Min(r.Length, size - r.Offset);
        }

        var data = GC.AllocateUninitializedArray<byte>(checked((int)length));
        LocalObjectFile.ReadContent(file, offset, data);
        return Task.FromResult(new ObjectContent(data, etag, size));
    }

    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(key);
        using var file = OpenExisting(path, "HEAD", key);
        var (etag, size) = LocalObjectFile.ReadHeader(file, path);
        return Task.FromResult(new ObjectInfo(key, size, etag, File.GetLastWriteTimeUtc(path)));
    }

    public async Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(key);
        var temp = Path.Combine(_tempFolder, Guid.NewGuid().ToString("N"));
        try
        {
            var etag = LocalObjectFile.Write(temp, content.Span);
            using (await _mutationLock.AcquireAsync(cancellationToken))
            {
                CheckCondition(key, path, condition);
                var folder = Path.GetDirectoryName(path)!;
                CreateFolderDurably(folder);
                File.Move(temp, path, overwrite: true);
                FileDurability.SyncDirectory(folder);
            }

            return etag;
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception && e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            // A full or failing local disk is this store's outage: the caller retries, as it would a 503.
            throw new ObjectStoreException(ObjectStoreErrorKind.Transient, "PUT", key,
                FileDurability.IsDiskFull(e) ? $"the local disk is full: {e.Message}" : $"local disk error: {e.Message}", e);
        }
        finally
        {
            TryDelete(temp); // no-op after a successful rename
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Swept with the rest of .tmp later; the PUT's own outcome is what matters.
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        using (await _mutationLock.AcquireAsync(cancellationToken))
        {
            DeleteLocked(path);
        }
    }

    public async Task<IReadOnlyList<DeleteFailure>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count > IObjectStore.MaxDeleteBatch)
        {
            throw new ArgumentException($"at most {IObjectStore.MaxDeleteBatch} keys per batch", nameof(keys));
        }

        var paths = keys.Select(PathOf).ToList();
        using (await _mutationLock.AcquireAsync(cancellationToken))
        {
            foreach (var path in paths)
            {
                DeleteLocked(path);
            }
        }

        return [];
    }

    public Task<ListPage> ListPageAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxKeys);
        maxKeys = Math.Min(maxKeys, IObjectStore.MaxListPage);
        var start = Path.Combine(_root, LocalKeyPath.PrefixFolder(prefix));
        var keys = new List<(string Key, string Path)>();
        if (Directory.Exists(start))
        {
            Collect(start, prefix, continuationToken, keys, cancellationToken);
        }

        keys.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var page = new List<ObjectInfo>(Math.Min(maxKeys, keys.Count));
        foreach (var (key, path) in keys)
        {
            if (page.Count == maxKeys)
            {
                break;
            }

            try
            {
                using var file = File.OpenHandle(path);
                var (etag, size) = LocalObjectFile.ReadHeader(file, path);
                page.Add(new ObjectInfo(key, size, etag, File.GetLastWriteTimeUtc(path)));
            }
            catch (FileNotFoundException)
            {
                // Deleted while listing: S3 listings are not snapshots either.
            }
        }

        var truncated = keys.Count > page.Count && page.Count == maxKeys;
        return Task.FromResult(new ListPage(page, truncated ? page[^1].Key : null));
    }

    public void Dispose()
    {
    }

    private void Collect(string folder, string prefix, string? after, List<(string, string)> keys, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo dir)
            {
                if (LocalKeyPath.IsFolderName(dir.Name))
                {
                    Collect(dir.FullName, prefix, after, keys, cancellationToken);
                }

                continue;
            }

            var key = LocalKeyPath.ToKey(Path.GetRelativePath(_root, entry.FullName));
            if (key is not null && key.StartsWith(prefix, StringComparison.Ordinal)
                && (after is null || string.CompareOrdinal(key, after) > 0))
            {
                keys.Add((key, entry.FullName));
            }
        }
    }

    private static void CheckCondition(string key, string path, PutCondition condition)
    {
        switch (condition.Kind)
        {
            case PutConditionKind.CreateOnly when File.Exists(path):
                throw new ObjectStoreException(ObjectStoreErrorKind.PreconditionFailed, "PUT", key,
                    "the object already exists (If-None-Match: *)") { ErrorCode = "PreconditionFailed" };
            case PutConditionKind.IfMatch:
                string? current = null;
                try
                {
                    using var file = File.OpenHandle(path);
                    current = LocalObjectFile.ReadHeader(file, path).ETag;
                }
                catch (FileNotFoundException)
                {
                }
                catch (DirectoryNotFoundException)
                {
                }

                if (!string.Equals(current, condition.ETag, StringComparison.Ordinal))
                {
                    throw new ObjectStoreException(ObjectStoreErrorKind.PreconditionFailed, "PUT", key,
                        current is null ? "the object does not exist (If-Match)" : $"the ETag is {current}, not {condition.ETag} (If-Match)")
                    {
                        ErrorCode = "PreconditionFailed",
                    };
                }

                break;
        }
    }

    private static void CreateFolderDurably(string folder)
    {
        if (Directory.Exists(folder))
        {
            return;
        }

        var parent = Path.GetDirectoryName(folder)!;
        CreateFolderDurably(parent);
        Directory.CreateDirectory(folder);
        FileDurability.SyncDirectory(parent);
    }

    private static void DeleteLocked(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
            FileDurability.SyncDirectory(Path.GetDirectoryName(path)!);
        }
    }

    private string PathOf(string key) => Path.Combine(_root, LocalKeyPath.ToRelativePath(key));

    private static Microsoft.Win32.SafeHandles.SafeFileHandle OpenExisting(string path, string operation, string key)
    {
        try
        {
            return File.OpenHandle(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectStoreException(ObjectStoreErrorKind.NotFound, operation, key, "no such key") { ErrorCode = "NoSuchKey" };
        }
    }
}
