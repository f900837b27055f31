using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Decides which ublk device a starting daemon re-attaches, from what the kernel says about every device: only a
/// device whose owner tag (<c>dev_info.ublksrv_flags</c>, <see cref="DeviceOwnerTag"/>) is this volume's binding is
/// ever touched.
/// </summary>
/// <remarks>
/// <para>Every device is looked at, not only the one the record names: ids are handed out again after devices are
/// deleted or after a reboot, so a record may name another volume's device (live or quiesced), and a daemon that died
/// after ADD_DEV but before its record said so leaves a device no record names. The kernel's tag is the authority.</para>
/// <para>Of this volume's devices: a dead one (stopped, or its daemon died before START_DEV; it has no disk, so nothing
/// can use it) is deleted; a quiesced one (its daemon died; I/O waits) is re-attached, as is a live one whose daemon is
/// still exiting or a failing-I/O one (kernels with UBLK_F_USER_RECOVERY_FAIL_IO). Several recoverable ones cannot come
/// from one binding but by a bug: the recorded one wins, else the lowest id of a quiesced one, and the others are left
/// alone (their filesystems keep waiting) and reported.</para>
/// </remarks>
internal static class DeviceAttachPlanner
{
    /// <summary>
    /// The binding a starting daemon uses: the journal's (<see cref="JournalBinding"/>) while what its devices showed is
    /// still the volume's data (the same volume, not deleted and created again under this name, and nobody else has
    /// written it since this node did); otherwise a new one, so that the old binding's devices are never taken as this
    /// volume's again. The record of this boot gives the device id only if it is of the same binding.
    /// </summary>
    /// <returns>The binding (with the recorded device id, if any) and, when the journal's binding was given up, why.</returns>
    public static (DeviceRecord Binding, string? BreakReason) ChooseBinding(
        (Guid VolumeId, Guid Binding)? journal, DeviceRecord? record, string volume, Guid volumeId, bool continuesThisNodesWrites, string bootId)
    {
        string? breakReason = journal is not { } kept ? null
            : kept.VolumeId != volumeId ? $"volume {volume} was created again since (volume id {kept.VolumeId}, now {volumeId})"
            : !continuesThisNodesWrites ? $"another node has written volume {volume} since this device served it"
            : null;
        var binding = journal is { } j && breakReason is null ? j.Binding : Guid.NewGuid();
        int? deviceId = record is not null && record.VolumeId == volumeId && record.Binding == binding ? record.DeviceId : null;
        return (new DeviceRecord(bootId, volumeId, binding, deviceId), breakReason);
    }

    /// <summary>Why the record of this boot is not this binding's (copied or swapped from another volume's folder, or
    /// left from a binding given up); null if it is, or if there is none.</summary>
    public static string? WhyRecordNotThisBinding(DeviceRecord? record, DeviceRecord binding) =>
        record is null || (record.VolumeId == binding.VolumeId && record.Binding == binding.Binding) ? null
        : record.VolumeId != binding.VolumeId ? $"it is another volume's (volume id {record.VolumeId}, {record})"
        : $"it is of another binding ({record})";

    public static DeviceAttachPlan Plan(ulong ownerTag, int? recordedId, IReadOnlyList<UblkDeviceStatus> devices)
    {
        var ours = devices.Where(d => d.ServerTag == ownerTag && d.State is not null).OrderBy(d => d.DeviceId).ToList();
        var dead = ours.Where(d => d.State == UblkDevState.Dead).Select(d => d.DeviceId).ToList();
        var recoverable = ours.Where(d => d.State != UblkDevState.Dead)
            .OrderBy(d => d.DeviceId == recordedId ? 0 : 1)
            .ThenBy(d => d.State == UblkDevState.Live ? 1 : 0)
            .ThenBy(d => d.DeviceId)
            .ToList();
        int? recover = recoverable.Count > 0 ? recoverable[0].DeviceId : null;
        var leftAlone = recoverable.Skip(1).Select(d => d.DeviceId).Order().ToList();
        return new DeviceAttachPlan(recover, dead, leftAlone, WhyRecordIgnored(ownerTag, recordedId, recover, devices));
    }

    private static string? WhyRecordIgnored(ulong ownerTag, int? recordedId, int? recover, IReadOnlyList<UblkDeviceStatus> devices)
    {
        if (recordedId is not { } id || id == recover)
        {
            return null;
        }

        var device = devices.FirstOrDefault(d => d.DeviceId == id);
        return device switch
        {
            null => $"/dev/ublkb{id} no longer exists",
            { ServerTag: null } or { State: null } => $"/dev/ublkb{id}'s owner is unknown",
            { ServerTag: var tag } when tag != ownerTag =>
                $"/dev/ublkb{id} is not this volume's (owner tag {DeviceOwnerTag.Format(tag.Value)}" +
                $"{(DeviceOwnerTag.IsS3Block(tag.Value) ? ", another S3Block binding" : ", not S3Block")}, " +
                $"{device.State?.ToString().ToLowerInvariant()}): not touched",
            // A recoverable device of ours that the record names is always the one chosen: only a dead one is left.
            _ => $"/dev/ublkb{id} is dead (its daemon stopped it or died before starting it): deleted",
        };
    }
}
