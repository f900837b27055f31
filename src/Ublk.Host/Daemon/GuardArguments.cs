namespace S3Block.Ublk.Daemon;

/// <summary>What a daemon tells its recovery-deadline guard (<see cref="DeviceDeadlineGuard"/>, <c>s3block guard</c>).</summary>
/// <param name="Volume">The volume's name (for the log).</param>
/// <param name="DeviceId">The ublk device id it guards.</param>
/// <param name="OwnerTag">The volume's owner tag on the device (<see cref="DeviceOwnerTag"/>): a device with another tag
/// under that id is not the one it guards.</param>
/// <param name="DaemonPid">The daemon that started it (a device being created is DEAD until that daemon starts it).</param>
/// <param name="Deadline">How long the device may have no daemon.</param>
/// <param name="VolumeFolder">The volume's state folder (instance lock, device record, guard lock and log).</param>
internal sealed record GuardArguments(string Volume, int DeviceId, ulong OwnerTag, int DaemonPid, TimeSpan Deadline, string VolumeFolder);
