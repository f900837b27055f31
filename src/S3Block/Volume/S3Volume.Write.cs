using Ublk.Server.Block;
using S3Block.Cache.Journal;

namespace S3Block.Volume;

public sealed partial class S3Volume
{
    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> source, WriteFlags flags, CancellationToken cancellationToken)
    {
        CheckRange(offset, source.Length);
        ThrowIfFaulted();
        var position = await _journal.AppendWriteAsync(offset, source, cancellationToken);
        if (BeforeIndexForTests is { } hook)
        {
            await hook(position.Sequence);
        }

        Index(offset, source.Length, position, isZero: false);
        if ((flags & WriteFlags.ForceUnitAccess) != 0)
        {
            await WaitDurableAsync(position.Sequence, cancellationToken);
        }
    }

    /// <summary>Test seam: awaited between a write's journal append and its indexing (a slow request thread).</summary>
    internal Func<long, Task>? BeforeIndexForTests { get; set; }

    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken) => ZeroAsync(offset, length, cancellationToken);

    public ValueTask WriteZeroesAsync(long offset, long length, CancellationToken cancellationToken) => ZeroAsync(offset, length, cancellationToken);

    /// <summary>Makes every write that completed before this call durable (journal, and S3 in Remote mode).</summary>
    /// <remarks>
    /// The target is the journal's last reserved sequence, not the highest contiguously indexed one: a write can be
    /// acknowledged while a lower sequence is still being indexed, and a FLUSH must cover it all the same.
    /// </remarks>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await WaitDurableAsync(_journal.LastReservedSequence, cancellationToken);
    }

    /// <summary>Uploads everything journaled so far and waits until a commit covers it.</summary>
    public async Task DrainAsync(IProgress<DrainProgress>? progress, CancellationToken cancellationToken)
    {
        var waiting = WaitCommittedAsync(_journal.LastReservedSequence, cancellationToken);
        while (!waiting.IsCompleted)
        {
            _uploadWanted.Set();
            var statistics = GetStatistics();
            progress?.Report(new DrainProgress(statistics.DirtyBytes, statistics.LastCommitNumber));
            await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken));
            ThrowIfFaulted();
        }

        await waiting;
        var final = GetStatistics();
        progress?.Report(new DrainProgress(final.DirtyBytes, final.LastCommitNumber));
    }

    /// <summary>TRIM and WRITE_ZEROES are journaled metadata: no data is written, whatever the length.</summary>
    private async ValueTask ZeroAsync(long offset, long length, CancellationToken cancellationToken)
    {
        CheckRange(offset, length);
        ThrowIfFaulted();
        if (length == 0)
        {
            return;
        }

        var position = await _journal.AppendZeroAsync(offset, length, cancellationToken);
        Index(offset, length, position, isZero: true);
    }

    private void Index(long offset, long length, JournalPosition position, bool isZero)
    {
        bool overThreshold;
        lock (_lock)
        {
            _dirty.Add(offset, length, position, isZero, _time.GetTimestamp());
            _indexed.Complete(position.Sequence);
            overThreshold = _dirty.DirtyBytes >= _options.CommitThresholdBytes;
        }

        if (overThreshold)
        {
            _uploadWanted.Set();
        }
    }

    private async Task WaitDurableAsync(long sequence, CancellationToken cancellationToken)
    {
        await _journal.WaitDurableAsync(sequence, cancellationToken);
        if (_options.FlushMode == FlushMode.Remote)
        {
            _uploadWanted.Set();
            await WaitCommittedAsync(sequence, cancellationToken);
        }
    }

    private Task WaitCommittedAsync(long sequence, CancellationToken cancellationToken)
    {
        TaskCompletionSource done;
        lock (_lock)
        {
            if (_committedSequence >= sequence)
            {
                return Task.CompletedTask;
            }

            if (_fault is { } fault)
            {
                return Task.FromException(new BlockIOException(BlockIOException.EIO, $"volume '{_keys.Name}' is read-only: {fault.Message}", fault));
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _commitWaiters.Add((sequence, done));
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    private void CheckRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > _descriptor.SizeBytes
            || offset % _descriptor.LogicalBlockSize != 0 || length % _descriptor.LogicalBlockSize != 0)
        {
            throw new BlockIOException(BlockIOException.EINVAL,
                $"request {offset}+{length} is outside the {_descriptor.SizeBytes}-byte volume or not aligned to {_descriptor.LogicalBlockSize} bytes");
        }
    }
}
