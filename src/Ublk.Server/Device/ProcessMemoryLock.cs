using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Ublk.Server.Device;

/// <summary>
/// mlockall for a small process that must act while a device it watches is stuck: once a page of it is in RAM it stays
/// there, so it never has to be read back from swap (which may live on that very device) before it can act.
/// </summary>
public static class ProcessMemoryLock
{
    private const int MCL_CURRENT = 1;
    private const int MCL_FUTURE = 2;
    private const int MCL_ONFAULT = 4;

    private const int CapIpcLock = 14;

    /// <summary>Locks every page this process has and will have, each as it is first touched (MCL_ONFAULT: the
    /// runtime's large address-space reservations are not committed). Returns why not, or null.</summary>
    /// <remarks>Only without a limit (RLIMIT_MEMLOCK unlimited, or CAP_IPC_LOCK): with MCL_FUTURE the kernel checks every
    /// later mapping's full size against the limit, and the runtime's reservations (GC regions, thread stacks) would
    /// then fail.</remarks>
    public static string? TryLockAllOnFault()
    {
        var limit = MemlockLimit.Describe();
        if (limit != "unlimited" && !HasCapability(CapIpcLock))
        {
            return $"memory not locked: RLIMIT_MEMLOCK is {limit} (set it unlimited, as the systemd unit does)";
        }

        if (LibC.mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0)
        {
            return null;
        }

        var errno = LibC.errno;
        return $"mlockall failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}; RLIMIT_MEMLOCK or CAP_IPC_LOCK)";
    }

    /// <summary>Whether the effective capability set (CapEff in /proc/self/status) holds <paramref name="capability"/>.</summary>
    private static bool HasCapability(int capability)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
            return line is not null
                   && ulong.TryParse(line["CapEff:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, null, out var caps)
                   && (caps & (1UL << capability)) != 0;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
