using System.Text.RegularExpressions;

namespace S3Block.Tests.Vm;

/// <summary>The contract of tests/vm/run.sh as GuestVm uses it: arguments, exit codes, shares, timeouts, dotnet.</summary>
public sealed class GuestRunTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Log(string text) => TestContext.Current.TestOutputHelper?.WriteLine(text);

    [Fact]
    public async Task Quotes_spaces_and_the_exit_code_survive_the_trip()
    {
        var run = await GuestVm.RunCommandAsync(
            ["bash", "-c", "printf '[%s]\\n' \"$@\"; echo \"it's \\\"quoted\\\" $HOME\"; exit 7",
             "argv0", "two words", "'single'", "$NOT_EXPANDED", ""],
            TimeSpan.FromMinutes(3), cancellationToken: Ct);
        Log(run.Describe());

        Assert.Equal(7, run.ExitCode);
        Assert.Equal(
            "[two words]\n['single']\n[$NOT_EXPANDED]\n[]\nit's \"quoted\" /root\n",
            run.Output);
    }

    [Fact]
    public async Task A_kernel_that_crashes_while_booting_is_booted_again_once_then_reported()
    {
        // No such initramfs init: the kernel panics before the command starts, on both boots.
        var run = await GuestVm.RunCommandAsync(
            ["touch", "/run/s3block-vm/never"], TimeSpan.FromMinutes(3),
            new GuestVmOptions { KernelArguments = "rdinit=/no-such-init" }, Ct);
        Log(run.Describe());

        Assert.Equal(GuestVmResult.VmFailedExitCode, run.ExitCode);
        Assert.Single(Regex.Matches(run.HarnessLog, "crashed while booting, before the command started; booting again \\(once\\)"));
        Assert.Contains("the VM stopped before the command finished", run.HarnessLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extra_environment_reaches_the_command()
    {
        var options = new GuestVmOptions
        {
            Environment = new Dictionary<string, string> { ["S3BLOCK_TEST_VALUE"] = "a b 'c' \"d\" $e" },
        };
        var run = await GuestVm.RunAsync("printf '%s\\n' \"$S3BLOCK_TEST_VALUE\"", TimeSpan.FromMinutes(3), options, Ct);

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.Equal("a b 'c' \"d\" $e\n", run.Output);
    }

    [Fact]
    public async Task Writable_share_reaches_the_host_at_both_guest_paths()
    {
        var share = Path.Combine(GuestVm.RepoRoot, ".cache", "vm", "test-shares", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(share);
        try
        {
            var run = await GuestVm.RunAsync(
                """
                set -euo pipefail
                echo fixed > "$S3BLOCK_VM_SHARE/fixed.txt"
                echo same-path > "$S3BLOCK_VM_SHARE_HOST/same-path.txt"
                test "$S3BLOCK_VM_SHARE" = /run/share
                """,
                TimeSpan.FromMinutes(3), new GuestVmOptions { ShareDirectory = share }, Ct);

            Assert.True(run.ExitCode == 0, run.Describe());
            Assert.Equal("fixed\n", await File.ReadAllTextAsync(Path.Combine(share, "fixed.txt"), Ct));
            Assert.Equal("same-path\n", await File.ReadAllTextAsync(Path.Combine(share, "same-path.txt"), Ct));
        }
        finally
        {
            Directory.Delete(share, recursive: true);
        }
    }

    [Fact]
    public async Task A_hung_guest_is_killed_at_the_timeout()
    {
        var run = await GuestVm.RunAsync("sleep 600", TimeSpan.FromSeconds(25), cancellationToken: Ct);
        Log(run.Describe());

        Assert.True(run.TimedOut, run.Describe());
        Assert.Contains("timed out", run.HarnessLog, StringComparison.Ordinal);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(60), run.Describe());
    }

    [Fact]
    public async Task Hosts_dotnet_runs_in_the_guest()
    {
        var run = await GuestVm.RunAsync("dotnet --info", TimeSpan.FromMinutes(5), cancellationToken: Ct);
        Log(run.Describe());

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.Contains("Microsoft.NETCore.App", run.Output, StringComparison.Ordinal);
    }
}
