using System.CommandLine;
using S3Block.ObjectStore;
using S3Block.Ublk.Configuration;
using S3Block.Ublk.Daemon;
using S3Block.Ublk.Metrics;
using S3Block.Volume;
using Tmds.Linux;

namespace S3Block.Ublk.Cli;

/// <summary><c>s3block flush VOLUME</c>: makes everything the daemon here has journaled durable in S3, with progress.</summary>
internal static class FlushCommand
{
    private static readonly Argument<string?> Volume = new("volume") { Description = "The volume (default: Daemon:Volume).", Arity = ArgumentArity.ZeroOrOne };

    public static Command Create()
    {
        var command = new Command("flush", """
            Ask the daemon serving a volume on this host to upload everything it has journaled, and wait until nothing
            is left, showing progress. Safe at any time; the device keeps serving. Ctrl+C stops waiting (not the upload).

            Examples:
              sudo s3block flush vol1
            """)
        {
            Volume,
        };
        CommonOptions.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, (context, token) => RunAsync(parse, context, token), ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CommandContext context, CancellationToken cancellationToken)
    {
        var daemon = context.DaemonOptions(parse.GetValue(Volume));

        using var store = ObjectStoreFactory.Create(context.StoreOptions(), RetryPolicy.Default);
        var lease = await VolumeLease.ReadAsync(store, new VolumeKeys(daemon.Volume), cancellationToken);
        if (lease is null || lease.IsExpired(DateTimeOffset.UtcNow) || lease.Host != Environment.MachineName)
        {
            throw new InvalidOperationException($"no daemon serves volume {daemon.Volume} on this host");
        }

        using var client = new DaemonMetricsClient(OptionsBinder.Bind<MetricsOptions>(context.Configuration, MetricsOptions.Section));
        var before = await client.ScrapeAsync(cancellationToken)
                     ?? throw new InvalidOperationException($"the daemon of volume {daemon.Volume} does not answer at {client.Endpoint} (is Metrics:Enabled true?)");
        if (LibC.kill(lease.Pid, LibC.SIGUSR1) != 0)
        {
            throw new InvalidOperationException($"cannot signal the daemon (pid {lease.Pid}): errno {LibC.errno}");
        }

        var commitBefore = before.GetValueOrDefault("s3block_last_commit_number");
        var needsCommit = before.GetValueOrDefault("s3block_dirty_bytes") > 0;
        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            var now = await client.ScrapeAsync(cancellationToken)
                      ?? throw new InvalidOperationException("the daemon stopped answering while flushing");
            var dirty = (long)now.GetValueOrDefault("s3block_dirty_bytes");
            var committed = now.GetValueOrDefault("s3block_last_commit_number");
            context.Out.WriteLine($"flushing {daemon.Volume}: {ByteSize.Format(dirty)} not yet in S3, commit {committed}");
            if (dirty == 0 && (!needsCommit || committed > commitBefore))
            {
                context.Out.WriteLine($"flushed: everything written to {daemon.Volume} before this command is in S3 (commit {committed})");
                return ExitCodes.Success;
            }
        }
    }
}
