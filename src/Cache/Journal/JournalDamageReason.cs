namespace S3Block.Cache.Journal;

/// <summary>Why replay stopped at a place in the journal.</summary>
public enum JournalDamageReason
{
    /// <summary>The segment file is shorter than a segment header, or its header has a bad magic, CRC or alignment.</summary>
    BadSegmentHeader = 1,

    /// <summary>The segment header's first sequence differs from the sequence in the file name.</summary>
    SegmentNameMismatch,

    /// <summary>The segment's writer epoch is lower than an earlier segment's.</summary>
    EpochRegression,

    /// <summary>The segment does not start right after the previous segment's last valid record.</summary>
    SequenceGap,

    /// <summary>The record's header is all zeros: never written (a hole left by an unfinished concurrent append).</summary>
    MissingRecord,

    /// <summary>The file ends inside the record's header.</summary>
    TruncatedHeader,

    /// <summary>The record's magic is wrong.</summary>
    BadMagic,

    /// <summary>The record's format version is not one this code reads.</summary>
    UnsupportedVersion,

    /// <summary>The record's type or fields are inconsistent (e.g. a Write whose length differs from its payload).</summary>
    InvalidHeader,

    /// <summary>The record's sequence is not the previous record's plus one.</summary>
    SequenceMismatch,

    /// <summary>The file ends inside the record's payload.</summary>
    TruncatedPayload,

    /// <summary>The CRC32C over header and payload does not match.</summary>
    BadChecksum,
}
