using System.Text;
using S3Block.Ublk.Cli;
using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Device;

/// <summary>
/// The start-of-Main re-exec that gives every thread of the daemon IO_FLUSHER: which verbs do it, that it never loops,
/// and the argv/environment it passes on. The exec itself and the inherited flags are checked in the VM
/// (DaemonRunTests), where the daemon has CAP_SYS_RESOURCE.
/// </summary>
public sealed class ProcessIoFlusherTests
{
    /// <summary>The executable's choice of verbs (<see cref="CliCommands.ServesDevice"/>) and the library's decision.</summary>
    private static ProcessIoFlusherStep Decide(string[] args, bool flusherSet, bool markerPresent) =>
        ProcessIoFlusher.Decide(CliCommands.ServesDevice(args), flusherSet, markerPresent);

    [Theory]
    [InlineData("run")]
    [InlineData("recover")]
    [InlineData("serve-backend")]
    public void A_daemon_verb_without_the_flag_sets_it_and_reexecutes(string verb) =>
        Assert.Equal(ProcessIoFlusherStep.SetAndReexec, Decide([verb, "vol1", "--config", "x.json"], flusherSet: false, markerPresent: false));

    [Theory]
    [InlineData("create")]
    [InlineData("list")]
    [InlineData("status")]
    [InlineData("flush")]
    [InlineData("delete")]
    [InlineData("--help")]
    [InlineData("vol1")]
    public void Other_verbs_never_reexecute(string verb) =>
        Assert.Equal(ProcessIoFlusherStep.NotADaemon, Decide([verb, "run"], flusherSet: false, markerPresent: false));

    [Fact]
    public void No_arguments_is_not_a_daemon() =>
        Assert.Equal(ProcessIoFlusherStep.NotADaemon, Decide([], flusherSet: false, markerPresent: false));

    [Fact]
    public void The_reexecuted_image_with_the_flag_is_done() =>
        Assert.Equal(ProcessIoFlusherStep.DoneByReexec, Decide(["run"], flusherSet: true, markerPresent: true));

    [Fact]
    public void A_flag_set_by_whoever_started_us_is_kept_without_an_exec() =>
        Assert.Equal(ProcessIoFlusherStep.DoneByParent, Decide(["run"], flusherSet: true, markerPresent: false));

    [Fact]
    public void The_reexecuted_image_without_the_flag_gives_up_instead_of_looping() =>
        Assert.Equal(ProcessIoFlusherStep.GiveUp, Decide(["run"], flusherSet: false, markerPresent: true));

    [Fact]
    public void Cmdline_splits_into_the_original_argv_with_empty_arguments_kept()
    {
        byte[] cmdline = Encoding.UTF8.GetBytes("/usr/bin/dotnet\0s3block.dll\0run\0\0--set\0A=b c\0");
        string[] argv = ProcessIoFlusher.SplitNulSeparated(cmdline).Select(b => Encoding.UTF8.GetString(b)).ToArray();
        Assert.Equal(["/usr/bin/dotnet", "s3block.dll", "run", "", "--set", "A=b c"], argv);
    }

    [Fact]
    public void A_list_without_a_final_nul_keeps_its_last_entry()
    {
        string[] entries = ProcessIoFlusher.SplitNulSeparated("a\0bc"u8).Select(b => Encoding.UTF8.GetString(b)).ToArray();
        Assert.Equal(["a", "bc"], entries);
        Assert.Empty(ProcessIoFlusher.SplitNulSeparated([]));
    }

    [Fact]
    public void Arguments_that_are_not_utf8_pass_through_byte_for_byte()
    {
        byte[] cmdline = [(byte)'r', (byte)'u', (byte)'n', 0, 0xff, 0xfe, (byte)'x', 0];
        List<byte[]> argv = ProcessIoFlusher.SplitNulSeparated(cmdline);
        Assert.Equal(2, argv.Count);
        Assert.Equal(new byte[] { 0xff, 0xfe, (byte)'x' }, argv[1]);
    }

    [Fact]
    public void The_new_environment_is_the_old_one_plus_the_marker_once()
    {
        byte[] environ = Encoding.UTF8.GetBytes($"PATH=/usr/bin\0{ProcessIoFlusher.MarkerVariable}=stale\0NOTIFY_SOCKET=/run/systemd/notify\0");
        string[] env = ProcessIoFlusher.ReexecEnvironment(environ).Select(b => Encoding.UTF8.GetString(b)).ToArray();
        Assert.Equal(["PATH=/usr/bin", "NOTIFY_SOCKET=/run/systemd/notify", $"{ProcessIoFlusher.MarkerVariable}=1"], env);
    }

    [Fact]
    public void A_variable_that_only_starts_like_the_marker_is_kept()
    {
        byte[] environ = Encoding.UTF8.GetBytes($"{ProcessIoFlusher.MarkerVariable}_OTHER=1\0");
        string[] env = ProcessIoFlusher.ReexecEnvironment(environ).Select(b => Encoding.UTF8.GetString(b)).ToArray();
        Assert.Equal([$"{ProcessIoFlusher.MarkerVariable}_OTHER=1", $"{ProcessIoFlusher.MarkerVariable}=1"], env);
    }

    [Fact]
    public void Without_CAP_SYS_RESOURCE_a_daemon_verb_runs_on_and_says_why()
    {
        // With the capability this would exec the test host itself: only where the kernel must refuse.
        Assert.SkipWhen(HasCapability(CapSysResource), "this process has CAP_SYS_RESOURCE; the VM test covers the exec");
        ProcessIoFlusher.EnsureBeforeRuntimeThreads(servesDevice: true);
        Assert.Equal(ProcessIoFlusherState.Refused, ProcessIoFlusher.State);
        Assert.Equal(Errno.EPERM, ProcessIoFlusher.Error);
        Assert.False(ProcessIoFlusher.CoversEveryThread);
    }

    private const int CapSysResource = 24;

    /// <summary>Whether CapEff in /proc/self/status has capability bit <paramref name="bit"/>.</summary>
    private static bool HasCapability(int bit)
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        ulong mask = Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
        return (mask & (1UL << bit)) != 0;
    }
}
