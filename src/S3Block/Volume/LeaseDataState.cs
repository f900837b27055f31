using System.Text.Json.Serialization;

namespace S3Block.Volume;

/// <summary>What a lease holder may hold that S3 does not (docs/volume-format.md, "Takeover and unsynced data").</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LeaseDataState>))]
public enum LeaseDataState
{
    /// <summary>Written by a version that did not record it: a release counts as clean.</summary>
    Unknown,

    /// <summary>The holder has just taken the lease and is replaying its journal: it may hold flushed data.</summary>
    Opening,

    /// <summary>Every write the holder had acknowledged as flushed when it wrote the record was in a commit. Only a
    /// release in this state lets another node take over without force.</summary>
    Clean,

    /// <summary>The holder held data that is only in its local journal (it may have acknowledged FLUSHes of it).</summary>
    Dirty,
}
