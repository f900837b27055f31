using System.CommandLine;
using S3Block.ObjectStore;
using S3Block.Ublk.Configuration;
using S3Block.Ublk.Daemon;
using S3Block.Ublk.Metrics;
using S3Block.Volume;

namespace S3Block.Ublk.Cli;

/// <summary><c>s3block status VOLUME</c>: what the store says, and what the daemon serving it here says.</summary>
internal static class StatusCommand
{
    private static readonly Argument<string?> Volume = new("volume") { Description = "The volume (default: Daemon:Volume).", Arity = ArgumentArity.ZeroOrOne };

    public static Command Create()
    {
        var command = new Command("status", """
            Show a volume's state: size, the lease holder and epoch, the newest commit; and, when a daemon serves it on
            this host, its device, the bytes not yet in S3 and the age of the oldest of them (the data you would lose
            with this machine's disk), journal fill and upload rate. Never shows credentials.

            Examples:
              s3block status vol1
              s3block status --config /etc/s3block/vol1.json
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
        var metricsOptions = OptionsBinder.Bind<MetricsOptions>(context.Configuration, MetricsOptions.Section);
        var storeOptions = context.StoreOptions();
        var o = context.Out;

        // Status is what an operator runs when something is broken: a store or state disk that cannot be read is
        // reported on its line, and the daemon's own view (it may be the only thing still working) is shown anyway.
        var storeRead = await WriteStoreAsync(o, storeOptions, daemon.Volume, cancellationToken);
        WriteDevice(o, daemon);
        await WriteDaemonAsync(o, metricsOptions, cancellationToken);
        return storeRead ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static async Task<bool> WriteStoreAsync(TextWriter o, StoreOptions storeOptions, string volume, CancellationToken cancellationToken)
    {
        try
        {
            using var store = ObjectStoreFactory.Create(storeOptions, RetryPolicy.Default);
            var state = await VolumeCatalog.OpenAsync(store, volume, cancellationToken);
            var lease = await VolumeLease.ReadAsync(store, new VolumeKeys(volume), cancellationToken);
            o.WriteLine($"volume:        {volume} ({ByteSize.Format(state.Descriptor.SizeBytes)}, chunks of {ByteSize.Format(state.Descriptor.ChunkSizeBytes)}) in {store.Location}");
            o.WriteLine($"lease:         {(lease is null ? "never taken" : lease.IsExpired(DateTimeOffset.UtcNow) ? $"free (last holder {lease.Host}, epoch {lease.Epoch})" : $"held by {lease.Host} pid {lease.Pid}, epoch {lease.Epoch}, until {DateTimeOffset.FromUnixTimeMilliseconds(lease.ExpiresAtUnixMs):u}")}");
            if (lease is not null)
            {
                o.WriteLine($"lease data:    {lease.DescribeUnsyncedData(DateTimeOffset.UtcNow)}");
            }

            o.WriteLine($"last commit:   {(state.LastCommitNumber == 0 ? "none" : $"{state.LastCommitNumber} at {state.LastCommitTime:u}")}");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or VolumeException
                                  || (e is ObjectStoreException s && StoreErrorExplainer.Explain(s, storeOptions) is null))
        {
            // A store error that is really a wrong setting still ends the command as a configuration error.
            o.WriteLine($"volume:        {volume}: the store could not be read: {CommandRunner.OneLine(e.Message)}");
            return false;
        }
    }

    private static void WriteDevice(TextWriter o, DaemonOptions daemon)
    {
        string device;
        try
        {
            device = DeviceRecord.ReadFromBoot(daemon.DeviceRecordPath, BootId.Current)?.DeviceId is { } id ? $"/dev/ublkb{id}" : "none on this host";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            device = $"unknown: its record could not be read: {CommandRunner.OneLine(e.Message)}";
        }

        o.WriteLine($"device:        {device}");
    }

    private static async Task WriteDaemonAsync(TextWriter o, MetricsOptions metricsOptions, CancellationToken cancellationToken)
    {
        using var client = new DaemonMetricsClient(metricsOptions);
        var first = await client.ScrapeAsync(cancellationToken);
        if (first is null || !first.ContainsKey("s3block_dirty_bytes"))
        {
            o.WriteLine($"daemon:        not running here (no answer at {client.Endpoint})");
            return;
        }

        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var second = await client.ScrapeAsync(cancellationToken) ?? first;
        double Value(IReadOnlyDictionary<string, double> v, string name) => v.TryGetValue(name, out var x) ? x : 0;
        var rate = Value(second, "s3block_uploaded_bytes_total") - Value(first, "s3block_uploaded_bytes_total");
        o.WriteLine($"not in S3:     {ByteSize.Format((long)Value(second, "s3block_dirty_bytes"))}, oldest {Value(second, "s3block_dirty_oldest_age_seconds"):F1} s");
        o.WriteLine($"journal:       {Value(second, "s3block_journal_fill_ratio") * 100:F1}% full");
        if (Value(second, "s3block_journal_disk_full") > 0)
        {
            o.WriteLine($"disk full:     writes are waiting for space on the journal's disk for {Value(second, "s3block_journal_disk_full_seconds"):F0} s "
                + "(they resume when uploads or an operator free some)");
        }

        o.WriteLine($"upload rate:   {rate / (1 << 20):F1} MiB/s");
        o.WriteLine($"faulted:       {(Value(second, "s3block_volume_faulted") > 0 ? "YES: the volume stopped accepting writes (see the log)" : "no")}");
    }
}
