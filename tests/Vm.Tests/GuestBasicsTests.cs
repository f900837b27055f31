namespace S3Block.Tests.Vm;

/// <summary>The guest boots the kernel we test against, with ublk usable and a sane place to run programs.</summary>
public sealed class GuestBasicsTests(GuestFacts facts) : IClassFixture<GuestFacts>
{
    private static void Log(string text) => TestContext.Current.TestOutputHelper?.WriteLine(text);

    [Fact]
    public void Guest_runs_debians_6_12_kernel()
    {
        Log($"guest kernel: {facts["uname"]}");
        Assert.StartsWith("6.12.", facts["uname"], StringComparison.Ordinal);
    }

    [Fact]
    public void Ublk_control_device_exists_after_loading_ublk_drv()
    {
        Assert.Equal("character special file", facts["ublk-control"]);
        var modules = facts["modules"].Split('\n');
        Assert.Contains("ublk_drv", modules);
    }

    [Fact]
    public void Filesystem_and_loop_modules_are_loaded()
    {
        var modules = facts["modules"].Split('\n');
        Assert.Contains("loop", modules);
        Assert.Contains("ext4", modules);
        Assert.Contains("xfs", modules);
    }

    [Fact]
    public void Kernel_config_builds_ublk_as_a_module()
    {
        var config = facts["ublk-config"].Split('\n');
        Log(facts["ublk-config"]);
        Assert.Contains("CONFIG_BLK_DEV_UBLK=m", config);
        // Legacy (non-ioctl-encoded) opcodes: the daemon must not rely on them, but it matters to know.
        Assert.Contains(config, l => l.Contains("CONFIG_BLKDEV_UBLK_LEGACY_OPCODES", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_cpu_is_online_though_the_kernel_booted_on_one()
    {
        // run.sh boots with maxcpus=1 (no vCPU runs beside the kernel's boot-time code patching under TCG);
        // guest-init.sh brings the other CPU online. Tests of queues and concurrency need both.
        Assert.Contains(" maxcpus=1 ", $" {facts["cmdline"]} ", StringComparison.Ordinal);
        Assert.Equal(["0-1", "2"], facts["cpus"].Split('\n'));
    }

    [Fact]
    public void Io_uring_is_enabled()
    {
        Log($"kernel.io_uring_disabled at boot: {facts["io_uring_disabled_at_boot"]}");
        Assert.Equal("0", facts["io_uring_disabled"]);
    }

    [Fact]
    public void Command_runs_as_root_in_the_host_working_directory_with_a_clean_environment()
    {
        Assert.Equal("0", facts["whoami"]);
        Assert.Equal(GuestVm.RepoRoot, facts["pwd"]);
        var env = facts["env"].Split('\n');
        Assert.Contains("HOME=/root", env);
        Assert.Contains("DOTNET_CLI_HOME=/root", env);
        Assert.Contains("DOTNET_NOLOGO=1", env);
        Assert.Contains("S3BLOCK_VM=1", env);
        Assert.Contains(env, l => l.StartsWith("PATH=", StringComparison.Ordinal) && l.Contains("/usr/bin", StringComparison.Ordinal));
    }

    [Fact]
    public void Scratch_places_are_writable_and_the_host_root_is_read_only()
    {
        var writable = facts["writable"].Split('\n');
        foreach (var dir in new[] { "/tmp", "/var/tmp", "/var/log", "/root", "/run", "/mnt", "/dev/shm" })
        {
            Assert.Contains($"{dir} yes", writable);
        }

        Assert.Contains("/usr no", writable);
    }

    [Fact]
    public void Loopback_is_up_for_servers_inside_the_guest()
    {
        // IFF_UP (0x1) | IFF_LOOPBACK (0x8); a NIC-less guest still needs 127.0.0.1 for an S3 server.
        var flags = Convert.ToInt32(facts["loopback"], 16);
        Assert.Equal(0x9, flags & 0x9);
    }
}
