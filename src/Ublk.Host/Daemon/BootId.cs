namespace S3Block.Ublk.Daemon;

/// <summary>
/// This boot's identity (<c>/proc/sys/kernel/random/boot_id</c>, new at every boot): a device record stamped with
/// another boot names devices that no longer exist, because ublk devices never survive a reboot.
/// </summary>
internal static class BootId
{
    private const string Path = "/proc/sys/kernel/random/boot_id";

    private static readonly Lazy<string> Value = new(Read);

    public static string Current => Value.Value;

    private static string Read()
    {
        try
        {
            var id = File.ReadAllText(Path).Trim();
            return id.Length > 0 ? id : "unknown";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or /proc hidden: every record then counts as this boot's; the owner tag still decides.
            return "unknown";
        }
    }
}
