using System.Buffers;
using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using S3Block.Cache.Platform;

namespace S3Block.Cache.Journal;

public sealed partial class FlushJournal
{
    // The zero bytes of a header unit after the 64 header bytes.
    private static readonly byte[] HeaderUnitPadding = new byte[JournalFormat.MaxAlignment - JournalFormat.HeaderSize];

    /// <summary>Test seam: awaited after a record's place is reserved and before it is written.</summary>
    internal Func<long, Task>? BeforeWriteForTests { get; set; }

    /// <summary>
    /// Appends a record and returns where it is. When this returns, the record is readable but not durable; use
    /// <see cref="FlushAsync"/> or <see cref="WaitDurableAsync"/> for durability. Returns in sequence order: when the
    /// append of sequence S returns, every record below S is completely written too, so a process crash (which keeps
    /// the page cache) can never leave a hole below an acknowledged record.
    /// </summary>
    /// <param name="type">Write (payload = the data), Zero (no payload) or Opaque.</param>
    /// <param name="deviceOffset">Device offset in bytes (Opaque: any value).</param>
    /// <param name="length">Range length in bytes: the payload length for Write, positive for Zero (Opaque: any value).</param>
    /// <param name="payload">The data; must not change until this returns. At most <see cref="MaxPayloadBytes"/>.</param>
    /// <param name="cancellationToken">Cancels a wait for space (never a write in progress).</param>
    /// <remarks>
    /// Never fails for lack of journal space: above the high-water mark it is delayed, at capacity it waits until
    /// <see cref="ReleaseThrough"/> frees space. Sequences are handed out in the order appends reserve their place;
    /// concurrent appends to overlapping ranges are ordered by sequence, which the volume must also use for its index.
    /// </remarks>
    public async ValueTask<JournalPosition> AppendAsync(
        JournalRecordType type,
        long deviceOffset,
        long length,
        ReadOnlyMemory<byte> payload,
        CancellationToken cancellationToken = default)
    {
        RecordHeader.ValidateAppend(type, deviceOffset, length, payload.Length);
        if (payload.Length > _options.MaxPayloadBytes)
        {
            throw new ArgumentException($"Payload of {payload.Length} bytes exceeds the largest record ({_options.MaxPayloadBytes}).", nameof(payload));
        }

        var recordSize = JournalFormat.RecordSize(payload.Length, _options.RecordAlignment);
        var throttled = await ThrottleAsync(recordSize, cancellationToken);
        var reservation = await ReserveAsync(recordSize, cancellationToken);
        if (throttled || reservation.WaitedForSpace)
        {
            Interlocked.Increment(ref _delayedAppends);
        }

        if (BeforeWriteForTests is { } hook)
        {
            await hook(reservation.Sequence);
        }

        if (!TryWriteRecord(reservation, type, deviceOffset, length, payload))
        {
            // A full disk although the segment was preallocated (a file system that cannot reserve space):
            // the sequence is reserved and later appends wait for it in order, so try the same write again.
            do
            {
                await Task.Delay(_options.DiskFullRetryInterval, CancellationToken.None);
            }
            while (!TryWriteRecord(reservation, type, deviceOffset, length, payload));

            lock (_lock)
            {
                _diskFullSince = null;
            }
        }

        if (CompleteWrite(reservation.Sequence) is { } earlierWrites)
        {
            await earlierWrites;
        }

        Interlocked.Increment(ref _recordsAppended);
        Interlocked.Add(ref _payloadBytesAppended, payload.Length);
        Interlocked.Add(ref _journalBytesAppended, recordSize);
        return new JournalPosition(reservation.Sequence, reservation.Segment.Id, reservation.Offset, payload.Length);
    }

    /// <summary>Appends a block write.</summary>
    public ValueTask<JournalPosition> AppendWriteAsync(long deviceOffset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        AppendAsync(JournalRecordType.Write, deviceOffset, data.Length, data, cancellationToken);

    /// <summary>Appends a TRIM / WRITE_ZEROES of a range.</summary>
    public ValueTask<JournalPosition> AppendZeroAsync(long deviceOffset, long length, CancellationToken cancellationToken = default) =>
        AppendAsync(JournalRecordType.Zero, deviceOffset, length, ReadOnlyMemory<byte>.Empty, cancellationToken);

    /// <summary>A reserved place for one record.</summary>
    private readonly record struct Reservation(JournalSegment Segment, long Sequence, long Offset, long DurableThrough, bool WaitedForSpace);

    /// <summary>
    /// Above the high-water mark, waits 1 ms plus a share of <see cref="JournalOptions.MaxThrottleDelay"/> that grows
    /// linearly with the fill beyond the mark. Returns whether it waited.
    /// </summary>
    private ValueTask<bool> ThrottleAsync(long recordSize, CancellationToken cancellationToken)
    {
        var capacity = (double)_options.CapacityBytes;
        var fill = (Volatile.Read(ref _usedBytes) + recordSize) / capacity;
        if (fill <= _options.HighWaterMark)
        {
            return ValueTask.FromResult(false);
        }

        var beyond = Math.Min(1.0, (fill - _options.HighWaterMark) / Math.Max(1e-9, 1 - _options.HighWaterMark));
        var delay = TimeSpan.FromMilliseconds(1) + ((_options.MaxThrottleDelay - TimeSpan.FromMilliseconds(1)) * beyond);
        return DelayAsync(delay, cancellationToken);

        async ValueTask<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
        {
            var start = Stopwatch.GetTimestamp();
            await Task.Delay(delay, cancellationToken);
            Interlocked.Add(ref _delayTicksTotal, Stopwatch.GetTimestamp() - start);
            return true;
        }
    }

    /// <summary>Reserves a place, waiting for <see cref="ReleaseThrough"/> when the journal is full.</summary>
    private ValueTask<Reservation> ReserveAsync(long recordSize, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (TryReserveLocked(recordSize, waited: false, out var reservation))
            {
                return ValueTask.FromResult(reservation);
            }
        }

        return WaitForSpaceAndReserveAsync(recordSize, cancellationToken);
    }

    private async ValueTask<Reservation> WaitForSpaceAndReserveAsync(long recordSize, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _appendsWaitedForSpace);
        try
        {
            while (true)
            {
                Task spaceFreed;
                bool diskFull;
                lock (_lock)
                {
                    if (TryReserveLocked(recordSize, waited: true, out var reservation))
                    {
                        return reservation;
                    }

                    spaceFreed = _spaceFreed.Task;
                    diskFull = _diskFullSince is not null;
                    Interlocked.Increment(ref _appendsWaitingForSpace);
                }

                try
                {
                    // A full journal waits for a release; a full disk also for other files to give space back.
                    await (diskFull
                        ? Task.WhenAny(spaceFreed, Task.Delay(_options.DiskFullRetryInterval, cancellationToken))
                        : spaceFreed).WaitAsync(cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref _appendsWaitingForSpace);
                }
            }
        }
        finally
        {
            Interlocked.Add(ref _delayTicksTotal, Stopwatch.GetTimestamp() - start);
        }
    }

    /// <summary>
    /// Reserves sequence, segment and offset if the capacity allows, starting a new segment when the record does not
    /// fit in the active one. Call under the lock.
    /// </summary>
    private bool TryReserveLocked(long recordSize, bool waited, out Reservation reservation)
    {
        ThrowIfUnusableLocked();
        var alignment = _options.RecordAlignment;
        var startSegment = _active is null || _active.EndOffset + recordSize > _options.SegmentSizeBytes;
        var needed = recordSize + (startSegment ? alignment : 0);
        if (_usedBytes + needed > _options.CapacityBytes)
        {
            reservation = default;
            return false;
        }

        if (startSegment)
        {
            try
            {
                _active = TryStartSegmentFromSpareLocked(_nextSequence) ?? CreateSegmentLocked(_nextSequence);
            }
            catch (Exception e) when (FileDurability.IsDiskFull(e))
            {
                // No sequence was handed out: the append waits (DiskFullRetryInterval) instead of failing.
                _diskFullSince ??= DateTimeOffset.UtcNow;
                Interlocked.Increment(ref _diskFullWaits);
                reservation = default;
                return false;
            }

            _diskFullSince = null;
            _usedBytes += _active.EndOffset;
        }

        var segment = _active!;
        var sequence = _nextSequence++;
        var offset = segment.EndOffset;
        segment.EndOffset += recordSize;
        segment.LastSequence = sequence;
        _usedBytes += recordSize;
        _writes.Begin(sequence);
        reservation = new Reservation(segment, sequence, offset, _durableSequence, waited);
        return true;
    }

    /// <summary>
    /// Creates a segment file, preallocated to its full size, with its header; it becomes the active segment. Call
    /// under the lock. Throws an <see cref="IOException"/> (disk full) before any sequence in it is handed out.
    /// </summary>
    /// <remarks>
    /// The slow way, used only when no spare is ready (<see cref="TryStartSegmentFromSpareLocked"/>): the file is created
    /// under the lock, and its blocks are unwritten extents, so each record's fdatasync also commits their conversion.
    /// </remarks>
    private JournalSegment CreateSegmentLocked(long firstSequence)
    {
        _spareSignal.Set(); // The spare loop failed, skipped or fell behind: let it try again.
        var path = Path.Combine(_directory, JournalFormat.SegmentFileName(firstSequence));
        var handle = CreateSegmentFile(path);
        try
        {
            FileDurability.Preallocate(handle, _options.SegmentSizeBytes);
            WriteSegmentHeader(handle, firstSequence);

            // The new file's name must survive a power cut before any record in it is reported durable.
            FileDurability.SyncDirectory(_directory);
        }
        catch
        {
            handle.Dispose();
            File.Delete(path);
            throw;
        }

        Interlocked.Increment(ref _segmentsOnDemand);
        return AddSegmentLocked(firstSequence, path, handle);
    }

    /// <summary>A new file for a segment or a spare; a spare's handle becomes its segment's, so both are opened alike.</summary>
    private static SafeFileHandle CreateSegmentFile(string path) =>
        File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

    /// <summary>Writes the header unit of a new segment whose first record will be <paramref name="firstSequence"/>.</summary>
    private void WriteSegmentHeader(SafeFileHandle handle, long firstSequence)
    {
        var unit = new byte[_options.RecordAlignment];
        new SegmentHeader(_volumeId, _writerEpoch, firstSequence, _options.RecordAlignment).Write(unit);
        RandomAccess.Write(handle, unit, 0);
    }

    /// <summary>Makes a new, empty segment (header written, name durable) the last one. Call under the lock.</summary>
    private JournalSegment AddSegmentLocked(long firstSequence, string path, SafeFileHandle handle)
    {
        var alignment = _options.RecordAlignment;
        var segment = new JournalSegment(firstSequence, path, handle, alignment, alignment, firstSequence - 1);
        _segments.Add(segment);
        PublishSegmentsLocked();
        return segment;
    }

    /// <summary>
    /// Writes header unit and payload with one positional gather write. Returns false when the disk is full (the caller
    /// waits and tries again); any other failure faults the journal.
    /// </summary>
    private bool TryWriteRecord(in Reservation reservation, JournalRecordType type, long deviceOffset, long length, ReadOnlyMemory<byte> payload)
    {
        var header = ArrayPool<byte>.Shared.Rent(JournalFormat.HeaderSize);
        try
        {
            new RecordHeader(type, reservation.Sequence, deviceOffset, length, payload.Length, reservation.DurableThrough)
                .Write(header, payload.Span);
            var padding = HeaderUnitPadding.AsMemory(0, reservation.Segment.Alignment - JournalFormat.HeaderSize);
            ReadOnlyMemory<byte>[] buffers = payload.IsEmpty
                ? [header.AsMemory(0, JournalFormat.HeaderSize), padding]
                : [header.AsMemory(0, JournalFormat.HeaderSize), padding, payload];
            RandomAccess.Write(reservation.Segment.Handle, buffers, reservation.Offset);
            return true;
        }
        catch (Exception e) when (FileDurability.IsDiskFull(e))
        {
            lock (_lock)
            {
                _diskFullSince ??= DateTimeOffset.UtcNow;
            }

            Interlocked.Increment(ref _diskFullWaits);
            return false;
        }
        catch (Exception e)
        {
            // The sequence is reserved and can never be written now: a hole would end replay here, so stop.
            Fault(e);
            throw new JournalFaultedException(e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    /// <summary>
    /// Marks a record written, releases the appends this completes in sequence order, and wakes the durability loop
    /// when a waiter or closing needs it. Returns a task to await when a lower sequence is still being written
    /// (the append must not be acknowledged before it), or null.
    /// </summary>
    private Task? CompleteWrite(long sequence)
    {
        bool wake;
        Task? earlierWrites = null;
        lock (_lock)
        {
            _writes.Complete(sequence);
            var written = _writes.WrittenThrough;
            while (_writtenWaiters.TryPeek(out var waiter, out var waiting) && waiting <= written)
            {
                _writtenWaiters.Dequeue();
                waiter.TrySetResult();
            }

            if (written < sequence && _fault is not null)
            {
                // A lower sequence failed: it will never be written, so this append is never acknowledged.
                earlierWrites = Task.FromException(new JournalFaultedException(_fault));
            }
            else if (written < sequence)
            {
                var waiter = NewSignalSource();
                _writtenWaiters.Enqueue(waiter, sequence);
                earlierWrites = waiter.Task;
            }

            wake = _closing
                || (_durabilityWaiters.TryPeek(out _, out var earliest) && earliest <= written);
        }

        if (wake)
        {
            _syncSignal.Set();
        }

        return earlierWrites;
    }
}
