using S3Block.Ublk.Daemon;
using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Daemon;

/// <summary>The recovery-deadline guard's judgement (issue 10 point 5): the clock runs from the moment the device lost
/// its daemon, a daemon that re-attaches it restarts it, and nothing but the kernel's state counts.</summary>
public sealed class DeviceAbandonmentTests
{
    private const ulong Tag = 0x5342_0000_1234_5678;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private const long T0 = 1_000_000;

    private static long At(double seconds) => T0 + (long)(seconds * 1000);

    private static UblkDeviceStatus Status(UblkDevState state, int pid = 100, ulong tag = Tag) =>
        new(7, state, 2, 128, pid, null, tag);

    [Fact]
    public void A_served_device_is_watched_for_ever()
    {
        var guard = new DeviceAbandonment(Tag, Deadline);
        for (var s = 0; s < 3600; s += 60)
        {
            Assert.Equal((GuardVerdict.Watch, null), guard.Observe(Status(UblkDevState.Live), creatorRunning: false, At(s)));
        }

        Assert.Null(guard.UnservedSince);
    }

    [Fact]
    public void A_device_without_a_daemon_is_stopped_once_the_deadline_has_passed_since_it_lost_it()
    {
        var guard = new DeviceAbandonment(Tag, Deadline);
        guard.Observe(Status(UblkDevState.Live), true, T0);
        var (verdict, change) = guard.Observe(Status(UblkDevState.Quiesced), false, At(1));
        Assert.Equal(GuardVerdict.Watch, verdict);
        Assert.Equal("no daemon serves it", change);
        Assert.Equal(At(1), guard.UnservedSince);
        Assert.Equal(At(11), guard.StopsAt);
        Assert.Equal(GuardVerdict.Watch, guard.Observe(Status(UblkDevState.Quiesced), false, At(10.9)).Verdict);
        Assert.Equal((GuardVerdict.Stop, null), guard.Observe(Status(UblkDevState.Quiesced), false, At(11)));
    }

    [Fact]
    public void Fail_io_and_unknown_states_count_as_no_daemon()
    {
        foreach (var state in new[] { UblkDevState.FailIo, (UblkDevState)9 })
        {
            var guard = new DeviceAbandonment(Tag, Deadline);
            guard.Observe(Status(state), false, T0);
            Assert.Equal(GuardVerdict.Stop, guard.Observe(Status(state), false, At(10)).Verdict);
        }
    }

    [Fact]
    public void A_daemon_that_re_attaches_the_device_restarts_the_clock_and_the_guard_follows_it()
    {
        var guard = new DeviceAbandonment(Tag, Deadline);
        guard.Observe(Status(UblkDevState.Quiesced, pid: 100), false, T0);
        var (verdict, change) = guard.Observe(Status(UblkDevState.Live, pid: 200), false, At(9));
        Assert.Equal(GuardVerdict.Watch, verdict);
        Assert.Equal("it is served again (daemon pid 200)", change);
        Assert.Null(guard.UnservedSince);
        // The second daemon dies too: a full deadline from then, not from the first death.
        guard.Observe(Status(UblkDevState.Quiesced, pid: 200), false, At(20));
        Assert.Equal(GuardVerdict.Watch, guard.Observe(Status(UblkDevState.Quiesced, pid: 200), false, At(29)).Verdict);
        Assert.Equal(GuardVerdict.Stop, guard.Observe(Status(UblkDevState.Quiesced, pid: 200), false, At(30)).Verdict);
    }

    [Fact]
    public void A_daemon_that_is_only_starting_does_not_stop_the_clock()
    {
        // The guard's creator (the dead daemon's pid may even be reused: creatorRunning true) and a starting daemon
        // holding the instance lock change nothing while the kernel says nobody serves the device.
        var guard = new DeviceAbandonment(Tag, Deadline);
        guard.Observe(Status(UblkDevState.Quiesced), creatorRunning: true, T0);
        Assert.Equal(GuardVerdict.Stop, guard.Observe(Status(UblkDevState.Quiesced), creatorRunning: true, At(10)).Verdict);
    }

    [Fact]
    public void A_device_being_created_is_watched_while_its_creator_runs()
    {
        var guard = new DeviceAbandonment(Tag, Deadline);
        Assert.Equal((GuardVerdict.Watch, null), guard.Observe(Status(UblkDevState.Dead), creatorRunning: true, T0));
        Assert.Equal((GuardVerdict.Watch, null), guard.Observe(Status(UblkDevState.Dead), creatorRunning: true, At(300)));
        Assert.Null(guard.UnservedSince);
        Assert.Equal(GuardVerdict.Watch, guard.Observe(Status(UblkDevState.Live), true, At(360)).Verdict);
    }

    [Fact]
    public void A_device_whose_creator_died_before_starting_it_needs_no_guard()
    {
        var guard = new DeviceAbandonment(Tag, Deadline);
        Assert.Equal((GuardVerdict.Done, "it is stopped"), guard.Observe(Status(UblkDevState.Dead), creatorRunning: false, T0));
    }

    [Fact]
    public void A_stopped_device_ends_the_guard_even_while_a_daemon_runs()
    {
        var guard = new DeviceAbandonment(Tag, Deadline);
        guard.Observe(Status(UblkDevState.Live), true, T0);
        Assert.Equal((GuardVerdict.Done, "it is stopped"), guard.Observe(Status(UblkDevState.Dead), creatorRunning: true, At(1)));
    }

    [Fact]
    public void A_deleted_device_or_one_now_of_another_owner_ends_the_guard()
    {
        var guard = new DeviceAbandonment(Tag, Deadline);
        guard.Observe(Status(UblkDevState.Quiesced), false, T0);
        Assert.Equal((GuardVerdict.Done, "it no longer exists"), guard.Observe(null, false, At(1)));
        var reused = new DeviceAbandonment(Tag, Deadline);
        reused.Observe(Status(UblkDevState.Quiesced), false, T0);
        // Deleted and the id handed to another volume's device: never stopped by this guard, whatever its state.
        Assert.Equal(GuardVerdict.Done, reused.Observe(Status(UblkDevState.Quiesced, tag: Tag + 1), false, At(10)).Verdict);
        Assert.Equal(GuardVerdict.Done, new DeviceAbandonment(Tag, Deadline).Observe(Status(UblkDevState.Live, tag: 0), true, T0).Verdict);
    }

    [Fact]
    public void A_guard_that_takes_over_keeps_the_clock_of_the_one_before()
    {
        // Daemons that each start a guard and die before re-attaching: the clock runs from the first loss.
        var first = new DeviceAbandonment(Tag, Deadline);
        first.Observe(Status(UblkDevState.Quiesced), false, T0);
        var second = new DeviceAbandonment(Tag, Deadline, inheritedSince: () => first.UnservedSince);
        Assert.Equal(GuardVerdict.Watch, second.Observe(Status(UblkDevState.Quiesced), true, At(6)).Verdict);
        Assert.Equal(T0, second.UnservedSince);
        var third = new DeviceAbandonment(Tag, Deadline, inheritedSince: () => second.UnservedSince);
        third.Observe(Status(UblkDevState.Quiesced), true, At(9));
        Assert.Equal(GuardVerdict.Stop, third.Observe(Status(UblkDevState.Quiesced), true, At(10)).Verdict);
    }

    [Fact]
    public void An_inherited_clock_is_dropped_once_the_device_is_served_and_never_taken_from_the_future()
    {
        var guard = new DeviceAbandonment(Tag, Deadline, inheritedSince: () => T0);
        guard.Observe(Status(UblkDevState.Live), true, At(5));
        guard.Observe(Status(UblkDevState.Quiesced), false, At(20));
        Assert.Equal(At(20), guard.UnservedSince);
        // A time after now (another boot's counter) is not believed.
        var odd = new DeviceAbandonment(Tag, Deadline, inheritedSince: () => At(100));
        odd.Observe(Status(UblkDevState.Quiesced), false, At(1));
        Assert.Equal(At(1), odd.UnservedSince);
    }

    [Fact]
    public void An_inherited_clock_means_the_device_was_started_so_dead_ends_the_guard()
    {
        var guard = new DeviceAbandonment(Tag, Deadline, inheritedSince: () => T0);
        Assert.Equal(GuardVerdict.Done, guard.Observe(Status(UblkDevState.Dead), creatorRunning: true, At(1)).Verdict);
    }

    [Fact]
    public void The_inherited_clock_is_read_when_the_device_is_first_seen_unserved()
    {
        // Started while a predecessor's clock ran; a daemon then re-attached the device (clearing the clock) and died
        // before this guard's first look: the clock starts at that look, not at the predecessor's time.
        long? recorded = T0;
        var guard = new DeviceAbandonment(Tag, Deadline, inheritedSince: () => recorded);
        recorded = null;
        guard.Observe(Status(UblkDevState.Quiesced), true, At(8));
        Assert.Equal(At(8), guard.UnservedSince);
    }
}
