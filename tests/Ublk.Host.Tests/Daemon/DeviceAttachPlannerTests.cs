using S3Block.Ublk.Daemon;
using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Daemon;

/// <summary>Which device a starting daemon re-attaches, deletes or leaves alone: only its own, by the kernel's owner tag.</summary>
public sealed class DeviceAttachPlannerTests
{
    private static readonly ulong Ours = DeviceOwnerTag.Compute(Guid.NewGuid(), Guid.NewGuid());
    private static readonly ulong OtherVolume = DeviceOwnerTag.Compute(Guid.NewGuid(), Guid.NewGuid());

    [Fact]
    public void TheRecordedDeviceIsReattachedWhenItIsOurs()
    {
        var plan = DeviceAttachPlanner.Plan(Ours, 2, [Device(0, UblkDevState.Live, OtherVolume), Device(2, UblkDevState.Quiesced, Ours)]);

        Assert.Equal(2, plan.RecoverId);
        Assert.Null(plan.RecordIgnored);
        Assert.Empty(plan.DeleteFirst);
        Assert.Empty(plan.LeftAlone);
    }

    [Fact]
    public void SwappedRecordsNeverTouchTheOtherVolumesDeviceAndFindOurOwn()
    {
        // After a reboot ids were handed out the other way round: the record says 0, which is now the other volume's.
        foreach (var theirs in new[] { UblkDevState.Live, UblkDevState.Quiesced, UblkDevState.Dead })
        {
            var plan = DeviceAttachPlanner.Plan(Ours, 0, [Device(0, theirs, OtherVolume), Device(1, UblkDevState.Quiesced, Ours)]);

            Assert.Equal(1, plan.RecoverId);
            Assert.Empty(plan.DeleteFirst);
            Assert.Contains("/dev/ublkb0 is not this volume's", plan.RecordIgnored, StringComparison.Ordinal);
            Assert.Contains("another S3Block binding", plan.RecordIgnored, StringComparison.Ordinal);
            Assert.EndsWith("not touched", plan.RecordIgnored, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ARecordNamingAnotherServersDeviceGivesANewDeviceAndLeavesThatOneAlone()
    {
        var plan = DeviceAttachPlanner.Plan(Ours, 0, [Device(0, UblkDevState.Quiesced, 0), Device(1, UblkDevState.Live, 0x3)]);

        Assert.Null(plan.RecoverId);
        Assert.Empty(plan.DeleteFirst);
        Assert.Empty(plan.LeftAlone);
        Assert.Contains("not S3Block", plan.RecordIgnored, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnrecordedQuiescedDeviceOfOursIsFoundAndReattached()
    {
        // The daemon died after START_DEV but before anything was recorded, or the record was rewritten meanwhile.
        var plan = DeviceAttachPlanner.Plan(Ours, null, [Device(0, UblkDevState.Live, OtherVolume), Device(4, UblkDevState.Quiesced, Ours)]);

        Assert.Equal(4, plan.RecoverId);
        Assert.Null(plan.RecordIgnored);
    }

    [Fact]
    public void ADeadDeviceOfOursIsDeletedAndANewOneCreated()
    {
        var plan = DeviceAttachPlanner.Plan(Ours, 3, [Device(3, UblkDevState.Dead, Ours), Device(5, UblkDevState.Dead, OtherVolume)]);

        Assert.Null(plan.RecoverId);
        Assert.Equal([3], plan.DeleteFirst);
        Assert.Contains("/dev/ublkb3 is dead", plan.RecordIgnored, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingRecordedDeviceGivesANewOne()
    {
        var plan = DeviceAttachPlanner.Plan(Ours, 9, [Device(0, UblkDevState.Live, OtherVolume)]);

        Assert.Null(plan.RecoverId);
        Assert.Equal("/dev/ublkb9 no longer exists", plan.RecordIgnored);
        Assert.Empty(plan.DeleteFirst);
    }

    [Fact]
    public void ADeviceWhoseOwnerIsUnknownIsNeverTaken()
    {
        var plan = DeviceAttachPlanner.Plan(Ours, 0, [new UblkDeviceStatus(0, null, null, null, null, null), Device(1, null, Ours)]);

        Assert.Null(plan.RecoverId);
        Assert.Empty(plan.DeleteFirst);
        Assert.Contains("owner is unknown", plan.RecordIgnored, StringComparison.Ordinal);
    }

    [Fact]
    public void OfSeveralRecoverableDevicesOfOursTheRecordedOneWinsElseAQuiescedOneAndTheRestIsLeftAlone()
    {
        UblkDeviceStatus[] devices = [Device(1, UblkDevState.Live, Ours), Device(2, UblkDevState.Quiesced, Ours), Device(3, UblkDevState.FailIo, Ours)];

        var recorded = DeviceAttachPlanner.Plan(Ours, 3, devices);
        var unrecorded = DeviceAttachPlanner.Plan(Ours, null, devices);

        Assert.Equal(3, recorded.RecoverId);
        Assert.Equal([1, 2], recorded.LeftAlone);
        Assert.Equal(2, unrecorded.RecoverId);
        Assert.Equal([1, 3], unrecorded.LeftAlone);
        Assert.Equal(3, DeviceAttachPlanner.Plan(Ours, 3, [Device(2, UblkDevState.Quiesced, Ours), Device(3, UblkDevState.Live, Ours)]).RecoverId);
    }

    [Fact]
    public void RandomHostsNeverHaveAnotherOwnersDeviceTouched()
    {
        var seed = Environment.TickCount;
        TestContext.Current.TestOutputHelper?.WriteLine($"seed={seed}");
        var random = new Random(seed);
        ulong[] owners = [Ours, OtherVolume, DeviceOwnerTag.Compute(Guid.NewGuid(), Guid.NewGuid()), 0, 0x3];
        UblkDevState?[] states = [UblkDevState.Dead, UblkDevState.Live, UblkDevState.Quiesced, UblkDevState.FailIo, null];
        for (var round = 0; round < 2000; round++)
        {
            var devices = Enumerable.Range(0, random.Next(0, 8))
                .Select(_ => random.Next(0, 16)).Distinct()
                .Select(id => new UblkDeviceStatus(id, states[random.Next(states.Length)], 1, 64, 100 + id, 1L << 30,
                    random.Next(6) == 0 ? null : owners[random.Next(owners.Length)]))
                .ToList();
            int? recorded = random.Next(3) == 0 ? null : random.Next(0, 16);

            var plan = DeviceAttachPlanner.Plan(Ours, recorded, devices);

            var context = $"seed={seed} round={round}: {string.Join("; ", devices)} recorded={recorded} → {plan}";
            var ours = devices.Where(d => d.ServerTag == Ours && d.State is not null).ToList();
            var touched = plan.DeleteFirst.Concat(plan.RecoverId is { } r ? [r] : []).ToList();
            Assert.True(touched.All(id => ours.Any(d => d.DeviceId == id)), "touched a device that is not ours: " + context);
            Assert.True(plan.DeleteFirst.All(id => ours.Single(d => d.DeviceId == id).State == UblkDevState.Dead), "deleted a device that is not dead: " + context);
            Assert.Equal(ours.Where(d => d.State == UblkDevState.Dead).Select(d => d.DeviceId).Order(), plan.DeleteFirst.Order());
            Assert.True(plan.RecoverId is null == ours.All(d => d.State == UblkDevState.Dead), "recover iff a recoverable device of ours exists: " + context);
            if (recorded is { } id && ours.Any(d => d.DeviceId == id && d.State != UblkDevState.Dead))
            {
                Assert.True(plan.RecoverId == id, "the recorded device of ours was not chosen: " + context);
            }

            Assert.Equal(Math.Max(0, ours.Count(d => d.State != UblkDevState.Dead) - 1), plan.LeftAlone.Count);
            Assert.True(plan.RecordIgnored is null == (recorded is null || recorded == plan.RecoverId), "record note: " + context);
        }
    }

    [Fact]
    public void TheJournalsBindingIsKeptOnlyWhileItsDevicesStillShowTheVolumesData()
    {
        var volumeId = Guid.NewGuid();
        (Guid, Guid) journal = (volumeId, Guid.NewGuid());
        var record = new DeviceRecord("boot", volumeId, journal.Item2, 4);

        var (kept, reason) = DeviceAttachPlanner.ChooseBinding(journal, record, "vol1", volumeId, true, "boot");
        Assert.Equal(record, kept);
        Assert.Null(reason);
        Assert.Null(DeviceAttachPlanner.WhyRecordNotThisBinding(record, kept));

        var (rewritten, why) = DeviceAttachPlanner.ChooseBinding(journal, record, "vol1", volumeId, false, "boot");
        Assert.Equal("another node has written volume vol1 since this device served it", why);
        AssertNew(rewritten, volumeId, record);
        Assert.StartsWith("it is of another binding", DeviceAttachPlanner.WhyRecordNotThisBinding(record, rewritten), StringComparison.Ordinal);

        var recreated = Guid.NewGuid();
        (rewritten, why) = DeviceAttachPlanner.ChooseBinding(journal, record, "vol1", recreated, true, "boot");
        Assert.Equal($"volume vol1 was created again since (volume id {volumeId}, now {recreated})", why);
        AssertNew(rewritten, recreated, record);

        // No binding in the journal (a new or lost journal): a new binding, nothing to give up.
        (rewritten, why) = DeviceAttachPlanner.ChooseBinding(null, record, "vol1", volumeId, true, "boot");
        Assert.Null(why);
        AssertNew(rewritten, volumeId, record);

        static void AssertNew(DeviceRecord binding, Guid volumeId, DeviceRecord old)
        {
            Assert.Equal(("boot", volumeId, (int?)null), (binding.BootId, binding.VolumeId, binding.DeviceId));
            Assert.NotEqual(old.Binding, binding.Binding);
            Assert.NotEqual(old.Tag, binding.Tag);
        }
    }

    [Fact]
    public void ARecordSwappedInFromAnotherVolumesFolderGivesNoDeviceIdAndIsReported()
    {
        var volumeId = Guid.NewGuid();
        (Guid, Guid) journal = (volumeId, Guid.NewGuid());
        var theirs = new DeviceRecord("boot", Guid.NewGuid(), Guid.NewGuid(), 1);

        var (binding, reason) = DeviceAttachPlanner.ChooseBinding(journal, theirs, "vol1", volumeId, true, "boot");

        Assert.Null(reason);
        Assert.Equal(new DeviceRecord("boot", volumeId, journal.Item2, null), binding);
        Assert.StartsWith($"it is another volume's (volume id {theirs.VolumeId}", DeviceAttachPlanner.WhyRecordNotThisBinding(theirs, binding), StringComparison.Ordinal);
    }

    private static UblkDeviceStatus Device(int id, UblkDevState? state, ulong tag) => new(id, state, 1, 64, 1000 + id, 1L << 30, tag);
}
