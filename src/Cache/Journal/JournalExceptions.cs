namespace S3Block.Cache.Journal;

/// <summary>The journal directory belongs to another volume. Nothing was modified.</summary>
public sealed class JournalVolumeMismatchException(string segmentPath, Guid expected, Guid found)
    : Exception($"Journal segment {segmentPath} belongs to volume {found}, not {expected}; refusing to replay it.")
{
    /// <summary>The segment whose header named the other volume.</summary>
    public string SegmentPath { get; } = segmentPath;

    /// <summary>The volume id the caller opened the journal for.</summary>
    public Guid Expected { get; } = expected;

    /// <summary>The volume id in the segment header.</summary>
    public Guid Found { get; } = found;
}

/// <summary>
/// Replay found corruption of records that had been durable and the policy is <see cref="JournalCorruptionPolicy.Refuse"/>.
/// Nothing was modified. Records before the damage were already handed to the replay handler.
/// </summary>
public sealed class JournalCorruptedException(JournalReplayReport report)
    : Exception($"Journal corruption of durable records: {report.Damage}; {report.ValidRecordsAfterDamage} valid records follow it.")
{
    /// <summary>What replay found.</summary>
    public JournalReplayReport Report { get; } = report;
}

/// <summary>The journal holds a segment with a newer writer epoch than the caller's: the caller is a stale writer.</summary>
public sealed class JournalStaleWriterException(long callerEpoch, long journalEpoch)
    : Exception($"Writer epoch {callerEpoch} is older than epoch {journalEpoch} found in the journal; refusing to write.")
{
    /// <summary>The epoch the caller opened with.</summary>
    public long CallerEpoch { get; } = callerEpoch;

    /// <summary>The highest epoch in the journal.</summary>
    public long JournalEpoch { get; } = journalEpoch;
}

/// <summary>A segment was written by a format version this code does not read. Nothing was modified.</summary>
public sealed class JournalFormatException(string segmentPath)
    : Exception($"Journal segment {segmentPath} has an unsupported format version (this code reads version {JournalFormat.Version}).")
{
    /// <summary>The segment with the unknown version.</summary>
    public string SegmentPath { get; } = segmentPath;
}

/// <summary>Another process (or another instance in this process) has the journal directory open.</summary>
public sealed class JournalInUseException(string directory, Exception inner)
    : Exception($"Journal directory {directory} is in use by another journal instance.", inner)
{
    /// <summary>The directory.</summary>
    public string Directory { get; } = directory;
}

/// <summary>
/// A write or fsync of the journal failed. The journal stops accepting work: after a failed fsync the kernel may
/// have dropped the dirty pages, so nothing appended since the last good sync can be trusted.
/// </summary>
public sealed class JournalFaultedException(Exception inner)
    : Exception("The flush journal failed and accepts no more work: " + inner.Message, inner);

/// <summary>
/// An fdatasync of the journal failed earlier in this boot (<see cref="JournalSyncFailure"/>): records after the last
/// good sync may read back from the page cache although they never reached the disk, so the journal is not opened.
/// </summary>
public sealed class JournalSyncFailedException(string directory, string time, string durableThrough, string error)
    : Exception(
        $"An fdatasync of the journal in {directory} failed at {time} ({error}); records after sequence {durableThrough} may read back "
        + "from memory although they never reached the disk, so they are not replayed as durable. Check the disk (dmesg). Then either "
        + "reboot the machine (replay then sees exactly what reached the disk; everything flushed before the failure is there), or, to "
        + "keep what this boot's page cache holds (every acknowledged write, at the risk that some is not on the disk), start once with "
        + $"--set Journal:AcceptSyncFailure=true, which replays the journal as it reads now and uploads it.")
{
    /// <summary>The journal directory.</summary>
    public string Directory { get; } = directory;
}

/// <summary>The configured journal capacity cannot exist on the journal's file system.</summary>
public sealed class JournalCapacityException(string directory, long capacityBytes, long fileSystemBytes)
    : Exception(
        $"Journal:CapacityBytes is {capacityBytes} bytes, but the whole file system of {directory} is only {fileSystemBytes} bytes "
        + "(the capacity plus one preallocated segment must fit): lower Journal:CapacityBytes or Journal:SegmentSizeBytes.")
{
    /// <summary>The journal directory.</summary>
    public string Directory { get; } = directory;
}
