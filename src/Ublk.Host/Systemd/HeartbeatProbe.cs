namespace S3Block.Ublk.Systemd;

/// <summary>
/// The usual probe: the component bumps a counter whenever it makes progress (a completed request, a loop iteration, an
/// upload attempt) and reports whether it has work outstanding. It is stuck when it had work at the previous check, still
/// has work now, and the counter did not move in between — a whole ping period without progress. Requiring work at both
/// checks avoids a false alarm when a request arrives just before a check after a long idle spell.
/// </summary>
/// <param name="name">The name for logs, e.g. "queue 0".</param>
/// <param name="heartbeat">Reads the progress counter (e.g. <c>() =&gt; Volatile.Read(ref queue.Completions)</c>).</param>
/// <param name="hasPendingWork">True while the component has work it has not finished (requests in flight, dirty
/// data to upload).</param>
internal sealed class HeartbeatProbe(string name, Func<long> heartbeat, Func<bool> hasPendingWork) : IProgressProbe
{
    private long? _lastHeartbeat;
    private bool _hadPendingWork;

    public string Name { get; } = name;

    public ProbeResult Check()
    {
        // Read "pending" before the counter: work that completes in between shows as progress, not as a stall.
        bool pending = hasPendingWork();
        long now = heartbeat();
        bool stalled = pending && _hadPendingWork && _lastHeartbeat == now;
        _lastHeartbeat = now;
        _hadPendingWork = pending;
        return stalled ? ProbeResult.Stuck($"work pending and no progress over a whole check period (heartbeat {now})") : ProbeResult.Healthy;
    }
}
