namespace Ublk.Server.Device;

/// <summary>
/// Who uses a block device, as the kernel says: mounts of the disk or of any of its partitions (in this process's mount
/// namespace and in PID 1's), swap areas on them, holders in sysfs (device-mapper, md, bcache: followed to what uses
/// them), and an exclusive open of the whole disk that none of these explains. Stopping a device with any of these
/// users would fail their I/O and lose what their page cache holds.
/// </summary>
/// <remarks>
/// A partition in use makes an exclusive open of the whole disk fail with EBUSY too, so the probe catches what the
/// named checks cannot see (a mount in another namespace, a program's O_EXCL open). A plain, non-exclusive open by a
/// program is not detected (kernels 7.0+ refuse such a stop themselves: UBLK_U_CMD_TRY_STOP_DEV).
/// </remarks>
public static class BlockDeviceUsers
{
    private const string SysBlock = "/sys/class/block";

    /// <summary>One line per user, naming it (e.g. "/dev/ublkb0p2 is held by /dev/mapper/vg-lv (dm-0)"); empty if unused.</summary>
    public static List<string> Find(string devicePath)
    {
        var name = Path.GetFileName(devicePath);
        var users = new List<string>();
        if (!Directory.Exists(Path.Combine(SysBlock, name)))
        {
            return users; // no disk (never started, or stopped): nobody can use it
        }

        var mounts = MountsByDeviceNumber();
        var swaps = SwapDeviceNames();
        foreach (var part in Partitions(name).Prepend(name))
        {
            Describe(part, mounts, swaps, users, depth: 0);
        }

        if (users.Count == 0 && BlockDevices.IsHeldExclusively(devicePath))
        {
            users.Add($"{devicePath} is held exclusively (a mount in a mount namespace this process cannot see, or a program's exclusive open)");
        }

        return users;
    }

    private static void Describe(string name, ILookup<string, string> mounts, HashSet<string> swaps, List<string> users, int depth)
    {
        var label = Label(name);
        if (ReadSysfs(Path.Combine(SysBlock, name, "dev")) is { } number)
        {
            users.AddRange(mounts[number].Select(mountPoint => $"{label} is mounted at {mountPoint}"));
        }

        if (swaps.Contains(name))
        {
            users.Add($"{label} is a swap area in use");
        }

        var holders = Path.Combine(SysBlock, name, "holders");
        if (depth > 8 || !Directory.Exists(holders))
        {
            return;
        }

        foreach (var holder in Directory.EnumerateFileSystemEntries(holders).Select(Path.GetFileName).Order(StringComparer.Ordinal))
        {
            users.Add($"{label} is held by {Label(holder!)}");
            Describe(holder!, mounts, swaps, users, depth + 1);
        }
    }

    /// <summary>"/dev/NAME", or for device-mapper "/dev/mapper/DMNAME (dm-N)", for md "/dev/mdN (md)".</summary>
    private static string Label(string name)
    {
        if (ReadSysfs(Path.Combine(SysBlock, name, "dm", "name")) is { Length: > 0 } dmName)
        {
            return $"/dev/mapper/{dmName} ({name})";
        }

        return Directory.Exists(Path.Combine(SysBlock, name, "md")) ? $"/dev/{name} (md)" : $"/dev/{name}";
    }

    /// <summary>The partitions of disk <paramref name="name"/> (sysfs subfolders with a "partition" file).</summary>
    private static IEnumerable<string> Partitions(string name)
    {
        var folder = Path.Combine(SysBlock, name);
        try
        {
            return [.. Directory.EnumerateDirectories(folder, name + "*")
                .Where(d => File.Exists(Path.Combine(d, "partition")))
                .Select(d => Path.GetFileName(d)!)
                .Order(StringComparer.Ordinal)];
        }
        catch (IOException)
        {
            return [];
        }
    }

    /// <summary>Mount points by "major:minor", from this namespace's mountinfo and PID 1's (the host's, when this runs
    /// in a namespace of its own; PID 1's paths are relative to its root).</summary>
    private static ILookup<string, string> MountsByDeviceNumber()
    {
        var pairs = new List<(string Number, string MountPoint)>();
        foreach (var file in new[] { "/proc/self/mountinfo", "/proc/1/mountinfo" })
        {
            try
            {
                // "36 35 259:0 / /srv/vol1 rw,relatime shared:1 - ext4 /dev/ublkb0 rw": 3rd field major:minor, 5th mount point.
                pairs.AddRange(File.ReadLines(file).Select(l => l.Split(' ')).Where(f => f.Length > 4)
                    .Select(f => (f[2], MountNamespaceCopies.Unescape(f[4]))));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // PID 1's may be hidden (hidepid); this namespace's view and the exclusive-open probe remain.
            }
        }

        return pairs.Distinct().ToLookup(p => p.Number, p => p.MountPoint);
    }

    /// <summary>Kernel names (e.g. "ublkb0p3", "dm-1") of the block devices in /proc/swaps.</summary>
    private static HashSet<string> SwapDeviceNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var fields in File.ReadLines("/proc/swaps").Skip(1).Select(l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)))
            {
                if (fields.Length > 1 && fields[1] == "partition")
                {
                    var path = MountNamespaceCopies.Unescape(fields[0]);
                    var target = File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
                    names.Add(Path.GetFileName(target));
                }
            }
        }
        catch (IOException)
        {
            // No swap support: nothing to add.
        }

        return names;
    }

    private static string? ReadSysfs(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
