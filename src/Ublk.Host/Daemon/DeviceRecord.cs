using System.Globalization;
using System.Text.Json;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Which ublk device serves a volume on this host, and the binding its device carries: <c>device.json</c> in the
/// volume's folder of the state directory.
/// </summary>
/// <remarks>
/// <para>The record is a hint, never the authority: the device itself carries its owner tag
/// (<see cref="DeviceOwnerTag"/>), the binding comes from the journal (<see cref="JournalBinding"/>), and the daemon
/// re-attaches only a device whose tag is its binding's; the record gives the device id, and <c>list</c>, <c>status</c>
/// and the udev helper the volume of a device. It is stamped with the boot it was written in (<see cref="BootId"/>): a
/// record of another boot is no record, since no device survives a reboot.</para>
/// <para>The daemon writes it before ADD_DEV (the binding, no device yet) and again before START_DEV or recovery (with
/// the device id). A rename is enough: the record must outlive the daemon's process, not the machine.</para>
/// </remarks>
/// <param name="BootId">The boot the record was written in.</param>
/// <param name="VolumeId">The volume's id (<see cref="S3Block.Volume.VolumeDescriptor.VolumeId"/>).</param>
/// <param name="Binding">The random binding id that, with the volume's id, makes the owner tag.</param>
/// <param name="DeviceId">The device that serves (or served) the volume in this boot; null before ADD_DEV.</param>
internal sealed record DeviceRecord(string BootId, Guid VolumeId, Guid Binding, int? DeviceId)
{
    /// <summary>The record's name in the volume's folder of the state directory.</summary>
    public const string FileName = "device.json";

    /// <summary>The owner tag a device of this binding carries.</summary>
    public ulong Tag => DeviceOwnerTag.Compute(VolumeId, Binding);

    /// <summary>The record at <paramref name="path"/> if it was written in boot <paramref name="bootId"/>; null if it is
    /// missing, unreadable, of another boot, or of the format before bindings (<c>{ "deviceId": N }</c>).</summary>
    public static DeviceRecord? ReadFromBoot(string path, string bootId) =>
        Read(path) is { } record && record.BootId == bootId ? record : null;

    /// <summary>The record at <paramref name="path"/>, of any boot; null if missing or unreadable.</summary>
    public static DeviceRecord? Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            if (!root.TryGetProperty("bootId", out var boot) || !root.TryGetProperty("volumeId", out var volume) ||
                !root.TryGetProperty("binding", out var binding))
            {
                return null;
            }

            int? deviceId = root.TryGetProperty("deviceId", out var id) && id.ValueKind == JsonValueKind.Number ? id.GetInt32() : null;
            return new DeviceRecord(boot.GetString() ?? "", volume.GetGuid(), binding.GetGuid(), deviceId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Every record of boot <paramref name="bootId"/> under <paramref name="stateDirectory"/>, with its volume
    /// (the folder's name), by volume.</summary>
    public static IReadOnlyList<(string Volume, DeviceRecord Record)> ReadAll(string stateDirectory, string bootId)
    {
        var records = new List<(string, DeviceRecord)>();
        if (!Directory.Exists(stateDirectory))
        {
            return records;
        }

        foreach (var folder in Directory.EnumerateDirectories(stateDirectory).Order(StringComparer.Ordinal))
        {
            if (ReadFromBoot(Path.Combine(folder, FileName), bootId) is { } record)
            {
                records.Add((Path.GetFileName(folder), record));
            }
        }

        return records;
    }

    public static void Write(string path, DeviceRecord record)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        using (var stream = File.Create(temp))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("bootId", record.BootId);
            json.WriteString("volumeId", record.VolumeId);
            json.WriteString("binding", record.Binding);
            // For people reading the file: what GET_DEV_INFO shows as ublksrv_flags. Read back from the two ids above.
            json.WriteString("ownerTag", DeviceOwnerTag.Format(record.Tag));
            if (record.DeviceId is { } id)
            {
                json.WriteNumber("deviceId", id);
            }
            else
            {
                json.WriteNull("deviceId");
            }

            json.WriteEndObject();
        }

        File.Move(temp, path, overwrite: true);
    }

    public static void Delete(string path) => File.Delete(path);

    public override string ToString() =>
        $"binding {Binding} (owner tag {DeviceOwnerTag.Format(Tag)}), device {(DeviceId is { } id ? id.ToString(CultureInfo.InvariantCulture) : "none")}";
}
