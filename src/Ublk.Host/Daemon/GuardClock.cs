using System.Globalization;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// <c>guard.N.since</c> in the volume's state folder: since when (monotonic ms, this boot) device N has had no daemon,
/// written by the guard that saw it lose its daemon and removed once a daemon serves it again, so that a guard taking
/// over keeps the clock (<see cref="DeviceAbandonment"/>).
/// </summary>
internal static class GuardClock
{
    public static string PathFor(string volumeFolder, int deviceId) => Path.Combine(volumeFolder, $"guard.{deviceId}.since");

    /// <summary>The recorded time, if it is of this boot.</summary>
    public static long? Read(string volumeFolder, int deviceId)
    {
        try
        {
            var parts = File.ReadAllText(PathFor(volumeFolder, deviceId)).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return parts.Length == 2 && parts[0] == BootId.Current && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var since)
                ? since
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Records the time whole (written aside, then renamed): a half-written file would restart the clock.</summary>
    public static void Write(string volumeFolder, int deviceId, long since)
    {
        var path = PathFor(volumeFolder, deviceId);
        File.WriteAllText(path + ".tmp", $"{BootId.Current} {since.ToString(CultureInfo.InvariantCulture)}\n");
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>Forgets the time (the device is served, or it is a new device under this id).</summary>
    public static void Clear(string volumeFolder, int deviceId) => File.Delete(PathFor(volumeFolder, deviceId));

    /// <summary><see cref="Clear"/> for a daemon, which must not fail a start over it: the guard clears the file too
    /// once it sees the device served.</summary>
    public static void TryClear(string volumeFolder, int deviceId)
    {
        try
        {
            Clear(volumeFolder, deviceId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the guard.
        }
    }
}
