namespace S3Block.Ublk.Systemd;

/// <summary>How <see cref="SystemdHostingExtensions.AddS3BlockSystemd(Microsoft.Extensions.Hosting.IHostApplicationBuilder, Action{SystemdIntegrationOptions}?)"/>
/// wires the host to systemd.</summary>
internal sealed class SystemdIntegrationOptions
{
    /// <summary>
    /// Send <c>READY=1</c> when the host has started every hosted service. Default: false, because for the daemon
    /// "started" is not "serving": it calls <see cref="SystemdNotifier.Ready"/> itself once the ublk device is live, so
    /// that mounts ordered after the unit find <c>/dev/ublkbN</c>. Set it for commands whose start-up is the readiness.
    /// </summary>
    public bool ReadyOnApplicationStarted { get; set; }

    /// <summary>The <c>STATUS=</c> sent with that automatic <c>READY=1</c>, if any.</summary>
    public string? ReadyStatus { get; set; }

    /// <summary>The <c>STATUS=</c> sent with <c>STOPPING=1</c>. Default: "stopping".</summary>
    public string? StoppingStatus { get; set; } = "stopping";

    /// <summary>
    /// <c>HostOptions.ShutdownTimeout</c> under systemd. Default: infinite — systemd is the clock (<c>TimeoutStopSec=</c>,
    /// extended by <c>EXTEND_TIMEOUT_USEC</c> while the final upload progresses, then SIGKILL); the host's own 30 s default
    /// would cancel a flush that systemd still allows. Null leaves the host's setting alone. Not applied outside systemd.
    /// </summary>
    public TimeSpan? ShutdownTimeoutUnderSystemd { get; set; } = Timeout.InfiniteTimeSpan;
}
