using System.ComponentModel;
using Microsoft.Win32.SafeHandles;
using S3Block.Cache.Platform;

namespace S3Block.Cache.Journal;

public sealed partial class FlushJournal
{
    /// <summary>Extension of the spare segment file; never a segment, so replay ignores it and open deletes it.</summary>
    internal const string SpareExtension = ".spare";

    // Zeros written into a spare, a step at a time, each step fdatasync'ed so the disk never queues a whole segment
    // ahead of a record's fdatasync.
    private const int ZeroFillStep = 4 << 20;
    private static readonly byte[] ZeroFillBuffer = new byte[ZeroFillStep];

    // A spare is made only while this many segments' worth of space is free: it must never take the last space the
    // cache or the local store need to finish the upload whose commit releases journal space.
    private const int SpareFreeSpaceSegments = 3;

    private readonly bool _spareEnabled;
    private readonly WakeSignal _spareSignal = new();
    private readonly TaskCompletionSource _spareThreadExited = NewSignalSource();

    // Guarded by _lock: a segment-sized file of durable zeros, ready to become the next segment.
    private SpareSegment? _spare;

    // Counters (Interlocked).
    private long _segmentsFromSpare;
    private long _segmentsOnDemand;
    private long _spareFailures;
    private long _sparesSkippedForSpace;

    /// <summary>Test seam: called under the lock when a spare is about to become a segment; throw to fail that step.</summary>
    internal Action? SpareActivationForTests { get; set; }

    /// <summary>A zero-filled, fdatasync'ed file that is not (yet) a segment.</summary>
    private sealed record SpareSegment(string Path, SafeFileHandle Handle);

    /// <summary>
    /// Keeps one spare segment ready. Why: a segment created with fallocate has unwritten extents, so every record's
    /// fdatasync must also commit the file system's extent conversion (a journal commit: more writes and a second cache
    /// flush). Records written over durable zeros change no metadata, so their fdatasync writes data only.
    /// </summary>
    /// <remarks>
    /// The spare is made on this thread, never under the journal's lock. A failure (disk full, EIO) only means the next
    /// segment is created on demand, the way it was before spares; the loop tries again when that happens. No spare is
    /// made while appends wait for a full disk or when little space is free.
    /// </remarks>
    private void RunSpareLoop()
    {
        try
        {
            while (true)
            {
                _spareSignal.Reset();
                bool needed;
                lock (_lock)
                {
                    if (StoppingLocked)
                    {
                        return;
                    }

                    needed = _spare is null && _diskFullSince is null;
                }

                if (needed && !EnoughSpaceForSpare())
                {
                    Interlocked.Increment(ref _sparesSkippedForSpace);
                    needed = false;
                }

                if (!needed)
                {
                    _spareSignal.Wait(); // Woken when a segment is started (from the spare or on demand).
                    continue;
                }

                if (TryPrepareSpare() is not { } spare)
                {
                    Interlocked.Increment(ref _spareFailures);
                    _spareSignal.Wait();
                    continue;
                }

                lock (_lock)
                {
                    if (!StoppingLocked)
                    {
                        _spare = spare;
                        continue;
                    }
                }

                Discard(spare); // Stopped, maybe half-filled: never used.
                return;
            }
        }
        catch (Exception)
        {
            // Unexpected (a bug): stop making spares and count it; segments are then created on demand, which always works.
            Interlocked.Increment(ref _spareFailures);
        }
        finally
        {
            _spareThreadExited.TrySetResult();
        }
    }

    /// <summary>False on copy-on-write file systems (an overwrite allocates anyway) and when that cannot be told.</summary>
    private static bool SparesHelpOn(string directory)
    {
        try
        {
            return !FileDurability.IsCopyOnWrite(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Whether enough space is free for a spare; false also when statvfs fails this once (the loop asks again later).</summary>
    private bool EnoughSpaceForSpare()
    {
        try
        {
            return FileDurability.AvailableBytes(_directory) >= SpareFreeSpaceSegments * _options.SegmentSizeBytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Closing or faulted: no spare is made or kept. Read under the lock.</summary>
    private bool StoppingLocked => _closing || _fault is not null;

    private bool IsStopping()
    {
        lock (_lock)
        {
            return StoppingLocked;
        }
    }

    /// <summary>Creates the spare: allocated, zero-filled and fdatasync'ed (possibly partly when the journal stops). Null if that failed.</summary>
    /// <remarks>
    /// One fixed name is safe: a spare is made only while there is none, and it stops being the spare (renamed, under the
    /// lock) before this runs again.
    /// </remarks>
    private SpareSegment? TryPrepareSpare()
    {
        var path = System.IO.Path.Combine(_directory, "next" + SpareExtension);
        SafeFileHandle? handle = null;
        try
        {
            File.Delete(path);
            handle = CreateSegmentFile(path);
            var size = _options.SegmentSizeBytes;
            FileDurability.Preallocate(handle, size);
            for (long offset = 0; offset < size && !IsStopping(); offset += ZeroFillStep)
            {
                RandomAccess.Write(handle, ZeroFillBuffer.AsSpan(0, (int)Math.Min(ZeroFillStep, size - offset)), offset);
                FileDurability.DataSync(handle);
            }

            return new SpareSegment(path, handle);
        }
        catch (Exception e) when (e is IOException or Win32Exception or UnauthorizedAccessException)
        {
            if (handle is not null)
            {
                Discard(new SpareSegment(path, handle));
            }

            return null;
        }
    }

    /// <summary>
    /// Turns the spare into the active segment for <paramref name="firstSequence"/>, or returns null when there is no
    /// spare or it could not be used (the caller then creates the segment on demand). Call under the lock, before any
    /// sequence in the segment is handed out.
    /// </summary>
    /// <remarks>
    /// <para>Header write, rename (never a copy), directory fsync: the name is durable before any record in it can be
    /// reported durable, and the header page is fdatasync'ed with the segment's first records. A power cut before
    /// that leaves a segment whose header reads as zeros and holds no durable record, which replay takes for a torn
    /// tail, as it does for a segment created on demand.</para>
    /// <para>A failure here falls back to creating the segment on demand, which meets the same disk: a failing disk
    /// still surfaces there (the append fails, nothing is reported durable), and a full one still waits.</para>
    /// </remarks>
    private JournalSegment? TryStartSegmentFromSpareLocked(long firstSequence)
    {
        if (_spare is not { } spare)
        {
            return null;
        }

        _spare = null;
        var path = System.IO.Path.Combine(_directory, JournalFormat.SegmentFileName(firstSequence));
        var renamed = false;
        try
        {
            SpareActivationForTests?.Invoke();
            WriteSegmentHeader(spare.Handle, firstSequence);
            FileDurability.RenameNoReplace(spare.Path, path);
            renamed = true;
            FileDurability.SyncDirectory(_directory);
        }
        catch (Exception)
        {
            // Whatever failed (I/O, or a libc without renameat2), no sequence is in it yet: drop it (under whichever name
            // it has now) and let the caller create one on demand.
            Interlocked.Increment(ref _spareFailures);
            Discard(renamed ? spare with { Path = path } : spare);
            return null;
        }

        Interlocked.Increment(ref _segmentsFromSpare);
        _spareSignal.Set(); // Make the next one while this segment fills.
        return AddSegmentLocked(firstSequence, path, spare.Handle);
    }

    /// <summary>Stops the spare loop and closes an unused spare, deleting it unless crashing (the lock is not held).</summary>
    private async Task StopSpareLoopAsync(bool deleteSpare)
    {
        _spareSignal.Set();
        await _spareThreadExited.Task;
        SpareSegment? spare;
        lock (_lock)
        {
            spare = _spare;
            _spare = null;
        }

        if (spare is not null)
        {
            if (deleteSpare)
            {
                Discard(spare);
            }
            else
            {
                spare.Handle.Dispose(); // A crash leaves the file; the next open deletes it.
            }
        }

        _spareSignal.Dispose();
    }

    /// <summary>Starts the spare loop, or marks it stopped when spares are off.</summary>
    private void StartSpareLoop()
    {
        if (_spareEnabled)
        {
            new Thread(RunSpareLoop) { IsBackground = true, Name = "journal-spare" }.Start();
        }
        else
        {
            _spareThreadExited.TrySetResult();
        }
    }

    /// <summary>Deletes spares a crashed instance left (call holding the directory lock, before replay).</summary>
    private static void DeleteLeftoverSpares(string directory)
    {
        foreach (var path in System.IO.Directory.EnumerateFiles(directory, "*" + SpareExtension))
        {
            File.Delete(path);
        }
    }

    private static void Discard(SpareSegment spare)
    {
        spare.Handle.Dispose();
        try
        {
            File.Delete(spare.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next open to delete.
        }
    }
}
