using S3Block.Ublk.Daemon;

namespace S3Block.Ublk.Tests.Daemon;

/// <summary>One recovery-deadline guard per device: the lock is exclusive, per device id, and gone with its holder.</summary>
public sealed class DeviceGuardLockTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("guard-lock-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Only_one_holder_per_device_and_the_lock_is_free_again_once_released()
    {
        var path = DeviceGuardLock.PathFor(_folder, 3);
        Assert.EndsWith("guard.3.lock", path);
        Assert.False(DeviceGuardLock.IsHeld(path));
        using (var first = DeviceGuardLock.TryTake(path))
        {
            Assert.NotNull(first);
            Assert.Null(DeviceGuardLock.TryTake(path));
            Assert.True(DeviceGuardLock.IsHeld(path));
            Assert.False(DeviceGuardLock.IsHeld(DeviceGuardLock.PathFor(_folder, 4)));
            Assert.False(DeviceGuardLock.WaitReleased(path, TimeSpan.FromMilliseconds(200)));
        }

        Assert.True(DeviceGuardLock.WaitReleased(path, TimeSpan.Zero));
        using var second = DeviceGuardLock.TryTake(path);
        Assert.NotNull(second);
    }

    [Fact]
    public async Task A_waiter_sees_the_release_of_a_holder_that_lets_go_meanwhile()
    {
        var path = DeviceGuardLock.PathFor(_folder, 0);
        var holder = DeviceGuardLock.TryTake(path)!;
        var release = Task.Run(async () =>
        {
            await Task.Delay(300, TestContext.Current.CancellationToken);
            holder.Dispose();
        }, TestContext.Current.CancellationToken);
        Assert.True(DeviceGuardLock.WaitReleased(path, TimeSpan.FromSeconds(30)));
        await release;
    }

    [Fact]
    public void A_pid_that_is_not_the_devices_guard_is_never_killed()
    {
        // The pid file names this test process (as after pid reuse): its command line is not "s3block guard --device 5".
        using var held = DeviceGuardLock.TryTake(DeviceGuardLock.PathFor(_folder, 5));
        File.WriteAllText(DeviceGuardLock.PidPathFor(_folder, 5), Environment.ProcessId + "\n");
        Assert.False(DeviceGuardLock.EndHolder(_folder, 5, TimeSpan.FromMilliseconds(300)));
        Assert.True(DeviceGuardLock.IsHeld(DeviceGuardLock.PathFor(_folder, 5)));
    }

    [Fact]
    public void A_lock_nobody_holds_needs_no_ending_and_a_failing_folder_is_not_taken_for_a_held_lock()
    {
        Assert.True(DeviceGuardLock.EndHolder(_folder, 6, TimeSpan.Zero));
        Assert.NotNull(DeviceGuardLock.Take(DeviceGuardLock.RecoveryPathFor(_folder, 6), TimeSpan.Zero));
        Assert.Throws<DirectoryNotFoundException>(() => DeviceGuardLock.TryTake(Path.Combine(_folder, "gone", "guard.1.lock")));
    }
}
