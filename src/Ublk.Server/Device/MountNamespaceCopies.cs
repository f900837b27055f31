using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ublk.Server.Interop;

namespace Ublk.Server.Device;

/// <summary>
/// Mounts of the daemon's own device inside the daemon's own mount namespace, and a way to drop them.
/// </summary>
/// <remarks>
/// A sandboxed systemd unit (ProtectSystem=, PrivateTmp=, ...) runs the daemon in a mount namespace of its own, made
/// when the process starts. A daemon that Restart= starts while a filesystem is mounted on its device gets a copy of
/// that mount, which the host's later umount does not remove. When such a daemon exits, the kernel tears the
/// namespace down, finds the last reference to the filesystem, syncs it and FLUSHes the device whose server is the
/// exiting process itself: it hangs in D state for ever. Detaching the copies (they are never used: nothing runs in
/// this namespace but the daemon) leaves the host's mount as the only one.
/// </remarks>
public static class MountNamespaceCopies
{
    private const int MNT_DETACH = 2;

    /// <summary>Mount points in this process's namespace whose source is <paramref name="device"/>, one of its partitions,
    /// or a device stacked on them (device-mapper, md: their I/O ends on this device too), by major:minor.</summary>
    public static List<string> MountPointsOf(string device)
    {
        var numbers = DeviceNumbers(Path.GetFileName(device));
        if (numbers.Count == 0)
        {
            return [];
        }

        // mountinfo: "36 35 259:0 / /srv/vol1 rw,relatime shared:1 - ext4 /dev/ublkb0 rw" (the 3rd field is major:minor).
        return [.. File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 4 && numbers.Contains(fields[2]))
            .Select(fields => Unescape(fields[4]))];
    }

    /// <summary>
    /// Detaches (umount2 MNT_DETACH, deepest first) every mount of <paramref name="device"/> in this namespace and
    /// returns the mount points, and the ones that could not be detached with the reason. Only for a namespace of the daemon's own: in the host's namespace this would unmount
    /// the user's filesystem. May block while the kernel syncs a filesystem whose last mount this was: call it only
    /// while the device serves I/O, and never on a queue thread.
    /// </summary>
    public static (List<string> Detached, List<string> Failed) DetachAll(string device)
    {
        var detached = new List<string>();
        var failed = new List<string>();
        foreach (var mountPoint in MountPointsOf(device).OrderByDescending(p => p.Length))
        {
            if (Libc.Umount2(mountPoint, MNT_DETACH) == 0)
            {
                detached.Add(mountPoint);
            }
            else
            {
                failed.Add($"{mountPoint} ({(Errno)Marshal.GetLastPInvokeError()})");
            }
        }

        return (detached, failed);
    }

    /// <summary>"major:minor" of the disk <paramref name="name"/>, its partitions and, recursively, their sysfs holders
    /// (from sysfs, no stat(2) binding needed); empty if the disk is gone.</summary>
    internal static HashSet<string> DeviceNumbers(string name)
    {
        var numbers = new HashSet<string>(StringComparer.Ordinal);
        var folder = Path.Combine("/sys/class/block", name);
        if (!Directory.Exists(folder))
        {
            return numbers;
        }

        var pending = new Stack<string>();
        pending.Push(name);
        foreach (var part in Directory.EnumerateDirectories(folder, name + "*").Where(d => File.Exists(Path.Combine(d, "partition"))))
        {
            pending.Push(Path.GetFileName(part));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            if (!seen.Add(current))
            {
                continue;
            }

            var dev = Path.Combine("/sys/class/block", current, "dev");
            if (File.Exists(dev))
            {
                numbers.Add(File.ReadAllText(dev).Trim());
            }

            var holders = Path.Combine("/sys/class/block", current, "holders");
            if (Directory.Exists(holders))
            {
                foreach (var holder in Directory.EnumerateFileSystemEntries(holders))
                {
                    pending.Push(Path.GetFileName(holder));
                }
            }
        }

        return numbers;
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo (octal).</summary>
    internal static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var text = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length
                && int.TryParse(field.AsSpan(i + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }

        return text.ToString();
    }
}
