using System.CommandLine;
using S3Block.ObjectStore;
using S3Block.Ublk.Configuration;
using S3Block.Ublk.Daemon;
using S3Block.Volume;

namespace S3Block.Ublk.Cli;

/// <summary><c>s3block list</c>: the volumes in the store, with size and who holds them, and the ublk devices on this host.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var command = new Command("list", """
            List the volumes in the configured store (size, chunk size, the newest commit and the lease holder) and
            the ublk devices on this host: state as the driver reports it (live, quiesced after a crash, dead), size,
            queues, the serving pid, the volume it is bound to and whether it is mounted. A device is bound to a volume
            when it carries the owner tag of that volume's device record (Daemon:StateDirectory); "(s3block, unclaimed)"
            is an S3Block device no volume here claims any more, "(not s3block)" another server's, "vol (record)" a
            device a record names whose tag could not be read. Without the ublk_drv module the devices part is one
            line; state, queues, pid and the owner tag need root and io_uring.

            Examples:
              s3block list
              s3block list --config /etc/s3block/vol1.json
            """);
        CommonOptions.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, RunAsync, ct));
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        using var store = ObjectStoreFactory.Create(context.StoreOptions(), RetryPolicy.Default);
        var names = await VolumeCatalog.ListAsync(store, cancellationToken);
        context.Out.WriteLine($"volumes in {store.Location}: {names.Count}");
        if (names.Count > 0)
        {
            context.Out.WriteLine($"{"NAME",-24} {"SIZE",10} {"CHUNK",8} {"COMMIT",8} {"LAST COMMIT",-20} LEASE");
        }

        foreach (var name in names.Order(StringComparer.Ordinal))
        {
            var state = await VolumeCatalog.OpenAsync(store, name, cancellationToken);
            var lease = await VolumeLease.ReadAsync(store, new VolumeKeys(name), cancellationToken);
            var holder = lease is null ? "free" : lease.IsExpired(DateTimeOffset.UtcNow)
                ? $"free (last: {lease.Host}, epoch {lease.Epoch})"
                : $"{lease.Host} pid {lease.Pid}, epoch {lease.Epoch}";
            context.Out.WriteLine($"{name,-24} {ByteSize.Format(state.Descriptor.SizeBytes),10} {ByteSize.Format(state.Descriptor.ChunkSizeBytes),8} " +
                                  $"{state.LastCommitNumber,8} {state.LastCommitTime?.ToString("u") ?? "never",-20} {holder}");
        }

        // The devices' owner tags and the daemons' device records in the state directory say which volume each serves.
        var daemon = OptionsBinder.Bind<DaemonOptions>(context.Configuration, DaemonOptions.Section);
        context.Out.WriteLine();
        HostDeviceTable.Write(context.Out, HostDevices.Scan(daemon.StateDirectory));
        return ExitCodes.Success;
    }
}
