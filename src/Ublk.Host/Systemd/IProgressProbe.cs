namespace S3Block.Ublk.Systemd;

/// <summary>
/// Tells the systemd watchdog whether one component (an I/O queue thread, the uploader) is making progress. Checked once
/// per watchdog ping period, from one thread at a time; a probe may keep state between checks (see
/// <see cref="HeartbeatProbe"/>). It must be cheap and must not block: it runs on the watchdog's timer.
/// </summary>
internal interface IProgressProbe
{
    /// <summary>A short name for logs, e.g. "queue 0" or "uploader". Unique within a <see cref="CompositeProgressProbe"/>.</summary>
    string Name { get; }

    /// <summary>Healthy when the component made progress since the previous check or has nothing to do.</summary>
    ProbeResult Check();
}
