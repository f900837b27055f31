using System.Text.Json;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Which ublk device serves a volume on this host, kept in the state folder so that a daemon restarted after a crash
/// re-attaches to the device (user recovery) instead of creating a second one.
/// </summary>
internal static class DeviceRecord
{
    public static int? Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return document.RootElement.GetProperty("deviceId").GetInt32();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
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
