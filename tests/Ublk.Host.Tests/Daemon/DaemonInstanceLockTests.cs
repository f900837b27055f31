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
}
