using System.Text;
using S3Block.TestKit;

namespace S3Block.Tests.Cli;

/// <summary>
/// <c>s3block status</c> against the embedded local store, with a stand-in for a daemon's <c>/metrics</c> endpoint:
/// an operator runs it when something is broken, so a store it cannot read never hides what the daemon says.
/// </summary>
public sealed class StatusCliTests : IDisposable
{
    private readonly TempFolder _folder = new("cli-status");

    [Fact]
    public async Task A_healthy_volume_without_a_daemon_shows_the_store_and_says_no_daemon_runs()
    {
        var port = StandInHttpEndpoint.FreePort();
        Assert.Equal(0, (await RunAsync(port, "create", "vol1", "--size", "64MiB", "--chunk-size", "1MiB")).ExitCode);

        var status = await RunAsync(port, "status", "vol1");

        Assert.True(status.ExitCode == 0, status.Error);
        Assert.Contains("volume:        vol1 (64MiB, chunks of 1MiB)", status.Out, StringComparison.Ordinal);
        Assert.Contains("lease:         never taken", status.Out, StringComparison.Ordinal);
        Assert.Contains("device:        none on this host", status.Out, StringComparison.Ordinal);
        Assert.Contains($"daemon:        not running here (no answer at http://127.0.0.1:{port}/metrics)", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreadable_store_is_reported_on_its_line_and_the_daemons_fault_is_still_shown_with_exit_1()
    {
        var port = StandInHttpEndpoint.FreePort();
        Assert.Equal(0, (await RunAsync(port, "create", "vol1", "--size", "64MiB", "--chunk-size", "1MiB")).ExitCode);
        // The volume's descriptor becomes unreadable, as on a state disk that fails its reads.
        var descriptor = Path.Combine(_folder.Path, "store", "vol1.d", "volume%2Ejson");
        Assert.True(File.Exists(descriptor), descriptor);
        File.Delete(descriptor);
        Directory.CreateDirectory(descriptor);
        var scrape = Encoding.UTF8.GetBytes("""
            # TYPE s3block_dirty_bytes gauge
            s3block_dirty_bytes 1048576
            s3block_dirty_oldest_age_seconds 12.5
            s3block_journal_fill_ratio 0.25
            s3block_volume_faulted 1
            """.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        using var daemon = new StandInHttpEndpoint(port, async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4";
            await context.Response.OutputStream.WriteAsync(scrape);
        });

        var status = await RunAsync(port, "status", "vol1");

        Assert.Equal(1, status.ExitCode);
        Assert.Matches(@"volume:        vol1: the store could not be read: .+", status.Out);
        Assert.Contains("device:        none on this host", status.Out, StringComparison.Ordinal);
        Assert.Contains("not in S3:     1MiB, oldest 12.5 s", status.Out, StringComparison.Ordinal);
        Assert.Contains("journal:       25.0% full", status.Out, StringComparison.Ordinal);
        Assert.Contains("faulted:       YES", status.Out, StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Dispose();

    private Task<S3BlockCli.Result> RunAsync(int port, params string[] arguments) =>
        S3BlockCli.RunAsync([.. arguments, "--set", $"Store:Local:Path={_folder.Path}/store", "--set", $"Metrics:Port={port}"],
            workingDirectory: _folder.Path);
}
