namespace S3Block.Ublk.Systemd;

/// <summary>A probe from a delegate, for checks that are not a heartbeat counter (e.g. "the lease was renewed in time").</summary>
internal sealed class DelegateProgressProbe(string name, Func<ProbeResult> check) : IProgressProbe
{
    public string Name { get; } = name;

    public ProbeResult Check() => check();
}
