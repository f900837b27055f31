using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using S3Block.Ublk.Daemon;
using Ublk.Server.Device;

namespace S3Block.Ublk.Cli;

/// <summary><c>s3block run VOLUME</c>: the daemon. Serves a volume on a ublk device until SIGTERM.</summary>
internal static class RunCommand
{
    private static readonly Argument<string?> Volume = new("volume")
    {
        Description = "The volume to serve (default: Daemon:Volume from the configuration).",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static readonly Option<bool> ForceTakeover = new("--force-takeover")
    {
        Description = "Take the volume even if another daemon holds its lease (that daemon is fenced and can no longer commit).",
    };

    public static Command Create() => Create("run", RunDescription, recoverOnly: false);

    /// <summary>The verb; <paramref name="recoverOnly"/> makes it refuse to create a device.</summary>
    public static Command Create(string name, string description, bool recoverOnly)
    {
        var command = new Command(name, description)
        {
            Volume, ForceTakeover,
        };
        CommonOptions.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, (context, token) => RunAsync(parse, context, recoverOnly, token), ct));
        return command;
    }

    private const string RunDescription = """
            Serve a volume on a ublk block device (/dev/ublkbN) until SIGTERM or Ctrl+C. Writes are journaled locally and
            uploaded to the store in crash-consistent commits; FLUSH waits for the journal (Volume:FlushMode=Journal) or
            for S3 (Remote). If a previous daemon crashed, its device is re-attached (user recovery) without unmounting.
            On SIGTERM everything is uploaded, then the device is stopped and deleted (or left attached if still mounted).
            Needs root and the ublk_drv kernel module.

            Examples:
              s3block create vol1 --size 10GiB && sudo s3block run vol1
              sudo s3block run --config /etc/s3block/vol1.json          # as the systemd unit does
              sudo s3block run vol1 --set Volume:FlushMode=Remote --set Device:Queues=4
            """;

    private static async Task<int> RunAsync(ParseResult parse, CommandContext context, bool recoverOnly, CancellationToken cancellationToken)
    {
        // Every setting is checked before anything touches the store or the kernel.
        var settings = DaemonSettings.Load(context, parse.GetValue(Volume), parse.GetValue(ForceTakeover));
        settings.Daemon.RecoverOnly = recoverOnly;
        BlockDevices.RequireUblkDriver();

        ThreadPoolReserve.Raise(ThreadPoolReserve.MinimumWorkers(settings.Volume, settings.Device));
        using var host = DaemonHost.Build(settings, context.Configuration);
        // Resolved before RunAsync, which disposes the host (and its services) when it returns.
        var daemon = host.Services.GetRequiredService<S3Block.Ublk.Daemon.VolumeDaemon>();
        await host.RunAsync(cancellationToken);
        return daemon.LeftAttached ? ExitCodes.DeviceLeftAttached : ExitCodes.Success;
    }
}
