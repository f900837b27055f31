using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Tests.Systemd;

/// <summary>A probe the test switches between healthy and stuck, counting its checks so tests can wait for
/// "N more checks happened" instead of sleeping and hoping.</summary>
internal sealed class ScriptedProbe(string name) : IProgressProbe
{
    private volatile bool _stuck;
    private int _checks;

    public string Name { get; } = name;

    public int Checks => Volatile.Read(ref _checks);

    public bool IsStuck
    {
        get => _stuck;
        set => _stuck = value;
    }

    public ProbeResult Check()
    {
        // Read the switch first, count after: a check counted after the caller flipped the switch may still have read the
        // old value, so waiters skip one check (see WaitForChecksAfterNowAsync).
        ProbeResult result = _stuck ? ProbeResult.Stuck("scripted stall") : ProbeResult.Healthy;
        Interlocked.Increment(ref _checks);
        return result;
    }

    /// <summary>Waits until <paramref name="count"/> checks have started after this call (one extra check is awaited
    /// because the check in progress at the time of the call may still see the old switch).</summary>
    public Task WaitForChecksAfterNowAsync(int count)
    {
        int target = Checks + count + 1;
        return Eventually.TrueAsync(() => Checks >= target, $"{count} more checks of '{Name}'");
    }
}
