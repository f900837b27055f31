namespace S3Block.Ublk.Daemon;

/// <summary>What a starting daemon does with the ublk devices on this host (<see cref="DeviceAttachPlanner"/>).</summary>
/// <param name="RecoverId">The device of this volume to re-attach (user recovery); null: create a new one.</param>
/// <param name="DeleteFirst">Dead devices of this volume (stopped, or never started): deleted before anything else.</param>
/// <param name="LeftAlone">Further recoverable devices of this volume that are not re-attached (only one can be);
/// left as they are, reported.</param>
/// <param name="RecordIgnored">Why the device the record names is not the one re-attached; null when it is, or when
/// the record names none.</param>
internal sealed record DeviceAttachPlan(int? RecoverId, IReadOnlyList<int> DeleteFirst, IReadOnlyList<int> LeftAlone, string? RecordIgnored);
