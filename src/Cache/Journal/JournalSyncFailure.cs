using System.Globalization;
using S3Block.Cache.Integrity;
using S3Block.Cache.Platform;

namespace S3Block.Cache.Journal;

/// <summary>
/// The durable memory of a failed fdatasync ("fsyncgate"). After a failed fdatasync Linux may have dropped the dirty
/// pages' write-back while the page cache still serves their data, and a later fsync reports success: a restarted
/// daemon would replay those records and call them durable. So the failure is written down where the next open of
/// the journal finds it, and that open refuses while the page cache of this boot may still be lying.
/// </summary>
/// <remarks>
/// The record goes to <c>SYNC-FAILED</c> in the journal directory (fsynced with its folder) and, because the disk that
/// failed may not take it, also to a file under <c>/dev/shm</c> (memory: it lasts exactly as long as the page cache
/// that could lie). Both carry the boot id: after a reboot the page cache is gone, replay reads only what reached the
/// disk (records that did not are torn and cut), so the record is cleared. In the same boot the operator decides.
/// </remarks>
public static class JournalSyncFailure
{
    /// <summary>Name of the record in the journal directory.</summary>
    public const string FileName = "SYNC-FAILED";

    private const string BootIdPath = "/proc/sys/kernel/random/boot_id";

    /// <summary>Writes the record (best effort on each of its two places; never throws).</summary>
    public static void Record(string directory, long durableThrough, long target, Exception error)
    {
        var text = string.Join('\n',
            $"boot={CurrentBootId()}",
            $"time={DateTimeOffset.UtcNow:O}",
            $"durable-through={durableThrough.ToString(CultureInfo.InvariantCulture)}",
            $"sync-target={target.ToString(CultureInfo.InvariantCulture)}",
            $"error={error.Message.ReplaceLineEndings(" ")}",
            "");
        TryWrite(Path.Combine(directory, FileName), text, syncFolder: true);
        TryWrite(MemoryPath(directory), text, syncFolder: false);
    }

    /// <summary>
    /// Throws <see cref="JournalSyncFailedException"/> when a failure was recorded in this boot, unless
    /// <paramref name="accept"/>. Call <see cref="Clear"/> once the open succeeded, to drop records of earlier boots
    /// (and accepted ones): an open that fails keeps them.
    /// </summary>
    public static void CheckAtOpen(string directory, bool accept)
    {
        var places = Places(directory);
        var boot = CurrentBootId();
        string? found = null;
        foreach (var place in places)
        {
            string text;
            try
            {
                text = File.ReadAllText(place);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // absent, or unreadable on a failing disk: the other copy decides
            }

            if (Field(text, "boot") == boot)
            {
                found ??= text;
            }
        }

        if (found is not null && !accept)
        {
            throw new JournalSyncFailedException(directory, Field(found, "time") ?? "?", Field(found, "durable-through") ?? "?", Field(found, "error") ?? "?");
        }
    }

    /// <summary>Removes the record's copies (after a successful open; see <see cref="CheckAtOpen"/>).</summary>
    public static void Clear(string directory)
    {
        var places = Places(directory);
        if (places.Any(File.Exists))
        {
            foreach (var place in places.Where(File.Exists))
            {
                File.Delete(place);
            }

            FileDurability.SyncDirectory(directory);
        }
    }

    /// <summary>Where the record's two copies live: the journal folder, and memory.</summary>
    private static string[] Places(string directory) => [Path.Combine(directory, FileName), MemoryPath(directory)];

    /// <summary>The record's copy in memory, named after the journal directory it is about.</summary>
    public static string MemoryPath(string directory)
    {
        var folder = Crc32C.Compute(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(directory)));
        return Path.Combine("/dev/shm", $"s3block-journal-{folder:x8}.sync-failed");
    }

    private static string? Field(string text, string name)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + "=", StringComparison.Ordinal))
            {
                return line[(name.Length + 1)..];
            }
        }

        return null;
    }

    private static string CurrentBootId()
    {
        try
        {
            return File.ReadAllText(BootIdPath).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    private static void TryWrite(string path, string text, bool syncFolder)
    {
        try
        {
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
            {
                file.Write(System.Text.Encoding.UTF8.GetBytes(text));
                file.Flush(flushToDisk: true);
            }

            if (syncFolder)
            {
                FileDurability.SyncDirectory(Path.GetDirectoryName(path)!);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            // The other place may still take it; the journal faults either way.
        }
    }
}
