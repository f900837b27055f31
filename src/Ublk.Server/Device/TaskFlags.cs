namespace Ublk.Server.Device;

/// <summary>
/// The kernel's per-thread flags (<c>task_struct.flags</c>, field 9 of /proc/PID/task/TID/stat): how the daemon
/// checks, for every one of its threads, that IO_FLUSHER is set (it can read another thread's flags only here).
/// </summary>
public static class TaskFlags
{
    /// <summary>PF_MEMALLOC_NOIO (include/linux/sched.h, unchanged since 3.x): allocations never start I/O.</summary>
    public const uint MemallocNoio = 0x00080000;

    /// <summary>PF_LOCAL_THROTTLE (5.9+; PF_LESS_THROTTLE before, same bit): dirty throttling only against its own writes.</summary>
    public const uint LocalThrottle = 0x00100000;

    /// <summary>What PR_SET_IO_FLUSHER sets and PR_GET_IO_FLUSHER tests (kernel/sys.c: PR_IO_FLUSHER).</summary>
    public const uint IoFlusher = MemallocNoio | LocalThrottle;

    /// <summary>
    /// The flags field of a stat line. The name (field 2) is in parentheses and may hold spaces and parentheses
    /// (".NET TP Worker"), so fields are counted after its last ')'. Null if the line is not a stat line.
    /// </summary>
    public static uint? Parse(string stat)
    {
        int nameEnd = stat.LastIndexOf(')');
        if (nameEnd < 0)
        {
            return null;
        }

        // After ") ": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9).
        string[] fields = stat[(nameEnd + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 6 && uint.TryParse(fields[6], out uint flags) ? flags : null;
    }

    /// <summary>Whether a thread's flags include IO_FLUSHER.</summary>
    public static bool HasIoFlusher(uint flags) => (flags & IoFlusher) == IoFlusher;

    /// <summary>
    /// Counts this process's threads and those with IO_FLUSHER, from /proc/self/task. A thread that exits during the
    /// scan is not counted.
    /// </summary>
    public static (int Threads, int WithIoFlusher) CountOwnThreads()
    {
        int threads = 0;
        int flagged = 0;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(task, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            if (Parse(stat) is uint flags)
            {
                threads++;
                flagged += HasIoFlusher(flags) ? 1 : 0;
            }
        }

        return (threads, flagged);
    }
}
