using System.Text.Json.Serialization;

namespace S3Block.Volume;

/// <summary>What a lease holder may hold that S3 does not (docs/volume-format.md, "Takeover and unsynced data").</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LeaseDataState>))]
public enum LeaseDataState
{
    /// <summary>Written by a version that did not record it: treated as <see cref="Dirty"/> unless released.</summary>
    Unknown,

    /// <summary>The holder has just taken the lease and is replaying its journal: it may hold flushed data.</summary>
    Opening,

    /// <summary>Every write the holder acknowledged as flushed is in a commit, and stays so until the holder records
    /// <see cref="Dirty"/> (it does so before acknowledging the next FLUSH of data not in S3).</summary>
    Clean,

    /// <summary>The holder may have acknowledged FLUSHes of data that is only in its local journal.</summary>
    Dirty,
}
