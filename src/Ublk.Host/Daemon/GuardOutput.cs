using Tmds.Linux;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Where the recovery-deadline guard writes: <c>guard.log</c> in the volume's state folder, and the journal when the
/// daemon that started it ran under systemd. Writing never throws: the guard may outlive the terminal, pipe or journal
/// stream it was started with, and a failed line must not end the only process that can end the device's hang.
/// </summary>
internal sealed class GuardOutput : IDisposable
{
    private readonly StreamWriter? _file;
    private readonly bool _journal;
    private string? _lastRepeated;
    private long _lastRepeatedAt;

    private GuardOutput(StreamWriter? file, bool journal)
    {
        _file = file;
        _journal = journal;
    }

    /// <summary>Opens the log and detaches the guard from the daemon's descriptors 0, 1 and 2 (a pipe's reader must see
    /// its end when the daemon ends), except the journal's stream, which systemd names in <c>$JOURNAL_STREAM</c>.</summary>
    public static GuardOutput Open(string logPath)
    {
        var journal = IsJournalStream(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));
        StreamWriter? file = null;
        try
        {
            file = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No log file: lines go to the journal only, if there is one.
        }

        try
        {
            using var devNull = new FileStream("/dev/null", FileMode.Open, FileAccess.ReadWrite);
            var target = (int)(file?.BaseStream is FileStream f ? f.SafeFileHandle : devNull.SafeFileHandle).DangerousGetHandle();
            var input = Target(0);
            var kept = journal ? Target(2) : null; // the journal's socket: it blocks nobody
            var output = new[] { Target(1), Target(2) }.Where(t => t is not null && t != kept).ToList();
            // The runtime keeps copies of 0, 1 and 2 for its Console streams (opened at start-up): those are replaced
            // too, or they would hold the daemon's pipe open as much as the originals.
            foreach (var fd in OpenDescriptors())
            {
                var current = Target(fd);
                if (fd == 0 || (current is not null && current == input && fd > 2))
                {
                    _ = LibC.dup2((int)devNull.SafeFileHandle.DangerousGetHandle(), fd);
                }
                else if (current is not null && output.Contains(current) && fd != target)
                {
                    _ = LibC.dup2(target, fd);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Keep the inherited descriptors.
        }

        return new GuardOutput(file, journal);
    }

    /// <summary>What descriptor <paramref name="fd"/> refers to ("pipe:[123]", a path), or null if it is not open.</summary>
    private static string? Target(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static List<int> OpenDescriptors() =>
        [.. Directory.EnumerateFileSystemEntries("/proc/self/fd").Select(Path.GetFileName).Select(n => int.TryParse(n, out var fd) ? fd : -1).Where(fd => fd >= 0)];

    /// <summary>Whether descriptor 2 is the journal's stream that <c>$JOURNAL_STREAM</c> ("device:inode") names, and not
    /// merely inherited from a service with stderr redirected since: the socket's inode must match.</summary>
    private static bool IsJournalStream(string? journalStream)
    {
        if (journalStream?.Split(':') is not [_, var inode])
        {
            return false;
        }

        try
        {
            return new FileInfo("/proc/self/fd/2").LinkTarget == $"socket:[{inode}]";
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Like <see cref="Say"/>, but a line equal to the previous one is repeated at most once a minute (a failure
    /// that recurs every round must not flood the log).</summary>
    public void SayOnce(string line)
    {
        if (line == _lastRepeated && Environment.TickCount64 - _lastRepeatedAt < 60_000)
        {
            return;
        }

        _lastRepeated = line;
        _lastRepeatedAt = Environment.TickCount64;
        Say(line);
    }

    /// <summary>Writes one line, prefixed <c>s3block guard:</c>, with the time in the file.</summary>
    public void Say(string line)
    {
        line = $"s3block guard: {line}";
        try
        {
            _file?.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {line}");
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The state folder's disk failed: the journal may still take it.
        }

        if (_journal)
        {
            try
            {
                Console.Error.WriteLine(line);
                Console.Error.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // journald restarted, or the stream is gone: the file has it.
            }
        }
    }

    public void Dispose() => _file?.Dispose();
}
