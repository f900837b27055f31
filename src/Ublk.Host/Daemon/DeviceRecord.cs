using System.Text.Json;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Which ublk device serves a volume on this host, kept in the state folder so that a daemon restarted after a crash
/// re-attaches to the device (user recovery) instead of creating a second one.
/// </summary>
internal static class DeviceRecord
{
    /// <summary>The record's name in the volume's folder of the state directory.</summary>
    public const string FileName = "device.json";

    public static int? Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.GetProperty("deviceId").GetInt32();
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Device id → volume for every record under <paramref name="stateDirectory"/> (one folder per volume). A record
    /// may be stale (its daemon crashed and the device was deleted): callers join it with the devices that exist.
    /// </summary>
    public static IReadOnlyDictionary<int, string> ReadAll(string stateDirectory)
    {
        var volumes = new Dictionary<int, string>();
        if (!Directory.Exists(stateDirectory))
        {
            return volumes;
        }

        foreach (var folder in Directory.EnumerateDirectories(stateDirectory).Order(StringComparer.Ordinal))
        {
            if (Read(Path.Combine(folder, FileName)) is { } id)
            {
                volumes.TryAdd(id, Path.GetFileName(folder));
            }
        }

        return volumes;
    }

    public static void Write(string path, int deviceId)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, $"{{ \"deviceId\": {deviceId} }}\n");
        File.Move(temp, path, overwrite: true);
    }

    public static void Delete(string path) => File.Delete(path);
}
