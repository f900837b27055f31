using S3Block.Ublk.Daemon;
using S3Block.Volume;

namespace S3Block.Tests.Daemon;

public sealed class DaemonInstanceLockTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("s3block-lock-");

    private string LockPath => Path.Combine(_folder.FullName, "state", "vol1", "daemon.lock");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void A_second_daemon_on_the_same_state_folder_is_refused_naming_the_holder()
    {
        using var first = DaemonInstanceLock.Acquire(LockPath, "vol1");

        var refused = Assert.Throws<VolumeInUseException>(() => DaemonInstanceLock.Acquire(LockPath, "vol1"));

        Assert.Equal(
            $"volume 'vol1' is already served by another s3block on this host (pid {Environment.ProcessId}), which holds {LockPath}",
            refused.Message);
    }

    [Fact]
    public void The_lock_is_free_again_once_its_holder_lets_go()
    {
        DaemonInstanceLock.Acquire(LockPath, "vol1").Dispose();

        using var again = DaemonInstanceLock.Acquire(LockPath, "vol1");

        Assert.True(File.Exists(LockPath));
    }

    [Fact]
    public void Different_volumes_do_not_share_a_lock()
    {
        using var first = DaemonInstanceLock.Acquire(LockPath, "vol1");
        using var other = DaemonInstanceLock.Acquire(Path.Combine(_folder.FullName, "state", "vol2", "daemon.lock"), "vol2");

        Assert.NotSame(first, other);
    }

    [Fact]
    public void The_guard_sees_a_held_lock_without_taking_it()
    {
        using var daemon = DaemonInstanceLock.Acquire(LockPath, "vol1");

        using var taken = DaemonInstanceLock.TryTakeExisting(LockPath, out var held);

        Assert.Null(taken);
        Assert.True(held);
    }

    [Fact]
    public void The_guard_takes_a_free_lock_but_never_creates_one()
    {
        using (var none = DaemonInstanceLock.TryTakeExisting(LockPath, out var heldWithoutFile))
        {
            Assert.Null(none);
            Assert.False(heldWithoutFile);
            Assert.False(Directory.Exists(Path.GetDirectoryName(LockPath)));
        }

        DaemonInstanceLock.Acquire(LockPath, "vol1").Dispose();
        using var taken = DaemonInstanceLock.TryTakeExisting(LockPath, out var held);

        Assert.NotNull(taken);
        Assert.False(held);
    }

    [Fact]
    public async Task A_daemon_starting_while_the_guard_holds_the_lock_waits_for_it_instead_of_failing()
    {
        // The pid file names the daemon before the guard, which is gone (never a running process).
        DaemonInstanceLock.Acquire(LockPath, "vol1").Dispose();
        File.WriteAllText(Path.ChangeExtension(LockPath, ".pid"), "2147483646\n");
        var guard = DaemonInstanceLock.TryTakeExisting(LockPath, out _);
        Assert.NotNull(guard);

        var daemon = Task.Run(() => DaemonInstanceLock.Acquire(LockPath, "vol1"), TestContext.Current.CancellationToken);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.False(daemon.IsCompleted);
        guard.Dispose();

        using var acquired = await daemon.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            File.ReadAllText(Path.ChangeExtension(LockPath, ".pid")).Trim());
    }
}
