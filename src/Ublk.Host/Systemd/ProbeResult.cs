namespace S3Block.Ublk.Systemd;

/// <summary>What an <see cref="IProgressProbe"/> saw: healthy (made progress, or had nothing to do) or stuck.</summary>
/// <param name="IsHealthy">True when the component progressed since the last check or is idle.</param>
/// <param name="Detail">For a stuck component, what is wrong, e.g. "3 requests in flight, no completion since the
/// last check"; logged with the probe's name.</param>
internal readonly record struct ProbeResult(bool IsHealthy, string? Detail)
{
    /// <summary>Made progress, or had nothing to do.</summary>
    public static ProbeResult Healthy { get; } = new(true, null);

    /// <summary>Has work but made no progress.</summary>
    public static ProbeResult Stuck(string detail) => new(false, detail);
}
