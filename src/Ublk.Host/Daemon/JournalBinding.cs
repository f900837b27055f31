using System.Text.Json;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// The binding id of a volume's journal: <c>device-binding.json</c> inside the journal folder, the one authority for
/// which owner tag (<see cref="DeviceOwnerTag"/>) this volume's devices carry.
/// </summary>
/// <remarks>
/// It lives with the journal because what a device showed is the volume's S3 state plus this journal: when the journal
/// folder is lost, moved aside or made anew, the binding goes with it and the old devices are never re-attached. The
/// device record (<see cref="DeviceRecord"/>) only repeats it, so a record copied or swapped between volume folders
/// cannot make a daemon take another volume's device. The journal's scanner ignores files that are not segments.
/// </remarks>
internal static class JournalBinding
{
    public const string FileName = "device-binding.json";

    /// <summary>The binding stored in <paramref name="journalDirectory"/>, with the volume id it was made for; null if none
    /// or unreadable.</summary>
    public static (Guid VolumeId, Guid Binding)? Read(string journalDirectory)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(journalDirectory, FileName)));
            var root = document.RootElement;
            return (root.GetProperty("volumeId").GetGuid(), root.GetProperty("binding").GetGuid());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or FormatException
                                      or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Stores the binding (a rename: it must outlive the process, not the machine, like the devices).</summary>
    public static void Write(string journalDirectory, Guid volumeId, Guid binding)
    {
        Directory.CreateDirectory(journalDirectory);
        var path = Path.Combine(journalDirectory, FileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, $"{{ \"volumeId\": \"{volumeId:D}\", \"binding\": \"{binding:D}\" }}\n");
        File.Move(temp, path, overwrite: true);
    }
}
