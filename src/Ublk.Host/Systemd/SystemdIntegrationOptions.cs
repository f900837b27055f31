namespace S3Block.Ublk.Systemd;

/// <summary>How <see cref="SystemdHostingExtensions.AddS3BlockSystemd(Microsoft.Extensions.Hosting.IHostApplicationBuilder, Action{SystemdIntegrationOptions}?)"/>
/// wires the host to systemd.</summary>
internal sealed class SystemdIntegrationOptions
{
    /// <summary>
    /// <c>HostOptions.ShutdownTimeout</c> under systemd. Default: infinite — systemd is the clock (<c>TimeoutStopSec=</c>,
    /// extended by <c>EXTEND_TIMEOUT_USEC</c> while the final upload progresses, then SIGKILL); the host's own 30 s default
    /// would cancel a flush that systemd still allows. Null leaves the host's setting alone. Not applied outside systemd.
    /// </summary>
    public TimeSpan? ShutdownTimeoutUnderSystemd { get; set; } = Timeout.InfiniteTimeSpan;
}
