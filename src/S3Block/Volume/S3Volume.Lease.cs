namespace S3Block.Volume;

/// <summary>
/// What the lease says about data not yet in S3 (docs/volume-format.md, "Takeover and unsynced data"): every renewal
/// records the current report, so the record costs no extra request; a drained close releases it clean.
/// </summary>
public sealed partial class S3Volume
{
    /// <summary>Set when this open took the volume by force from another node: what that may have discarded (also
    /// logged as <c>ForcedTakeover</c>).</summary>
    public string? ForcedTakeover => _lease.ForcedTakeover;

    /// <summary>Clean when every indexed write is in a commit; else dirty since the newest commit.</summary>
    private LeaseDataReport LeaseReport()
    {
        lock (_lock)
        {
            if (_committedSequence >= _indexed.CompletedThrough)
            {
                return new LeaseDataReport(LeaseDataState.Clean, _lastCommitNumber, 0, 0);
            }

            var oldest = _dirty.OldestJournaledAt();
            var since = oldest is null ? _time.GetUtcNow() : _time.GetUtcNow() - _time.GetElapsedTime(oldest.Value);
            return new LeaseDataReport(LeaseDataState.Dirty, _lastCommitNumber, _dirty.DirtyBytes, since.ToUnixTimeMilliseconds());
        }
    }
}
