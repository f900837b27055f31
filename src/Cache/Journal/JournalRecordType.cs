namespace S3Block.Cache.Journal;

/// <summary>What a journal record stands for. The numeric values are stored on disk.</summary>
public enum JournalRecordType : byte
{
    /// <summary>A block WRITE: the payload is the data written at the device offset; length equals the payload length.</summary>
    Write = 1,

    /// <summary>A TRIM or WRITE_ZEROES of a device range: no payload; the range reads as zeros afterwards.</summary>
    Zero = 2,

    /// <summary>Volume metadata the journal does not interpret (offset, length and payload are the volume's).</summary>
    Opaque = 3,

    /// <summary>
    /// Written by the journal itself after a sync round (format version 2): no payload; its durable-through field says
    /// how far that sync reached, and its sequence repeats the record before it. Never handed to the replay handler.
    /// </summary>
    SyncMark = 4,
}
