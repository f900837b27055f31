using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Ublk.Server.Block;
using S3Block.Ublk.Configuration;
using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Cli;

/// <summary>
/// <c>s3block serve-backend</c>: serves a ublk device from a simple local backend (null, memory or a file) until
/// SIGTERM/SIGINT, then stops and deletes it. For tests and benchmarks of the ublk path without S3.
/// </summary>
internal static class ServeBackendCommand
{
    public static Command Create()
    {
        var backend = new Option<string>("--backend")
        {
            Description = "Where the bytes live: null (reads zeros, drops writes), memory (sparse, lost on exit) or file:PATH (like a loop device).",
            DefaultValueFactory = _ => "memory",
        };
        var size = new Option<long?>("--size")
        {
            Description = "Device size, e.g. 64MiB or 1GiB. Required except for an existing file.",
            CustomParser = ParseSizeArgument,
        };
        var queues = new Option<int>("--queues") { Description = "Hardware queues (one thread and io_uring each).", DefaultValueFactory = _ => 1 };
        var depth = new Option<int>("--depth") { Description = "Requests in flight per queue.", DefaultValueFactory = _ => 128 };
        var maxIo = new Option<long?>("--max-io")
        {
            Description = "Largest request and per-tag buffer size (default 1MiB).",
            CustomParser = ParseSizeArgument,
        };
        var blockSize = new Option<int>("--block-size") { Description = "Logical block size: 512 or 4096.", DefaultValueFactory = _ => 512 };
        var id = new Option<int>("--id") { Description = "Device id N for /dev/ublkbN; -1 lets the kernel choose.", DefaultValueFactory = _ => -1 };
        var recover = new Option<int?>("--recover") { Description = "Re-attach to device ID left by a crashed daemon instead of creating one." };
        var noRecovery = new Option<bool>("--no-user-recovery") { Description = "Create the device without UBLK_F_USER_RECOVERY (it disappears if the daemon dies)." };
        var verbose = new Option<bool>("--verbose") { Description = "Debug logging." };

        var command = new Command("serve-backend", """
            Serve a ublk block device from a local test backend (no S3) until SIGTERM/SIGINT, then stop and delete
            it. Prints "ready: /dev/ublkbN (id N, ...)" when the disk is usable. Needs root and ublk_drv.

            Examples:
              s3block serve-backend --backend memory --size 1GiB --queues 2
              s3block serve-backend --backend file:/var/tmp/disk.img --size 8GiB --id 3
              s3block serve-backend --backend file:/var/tmp/disk.img --recover 3   # after the daemon was killed
            """)
        {
            backend, size, queues, depth, maxIo, blockSize, id, recover, noRecovery, verbose,
        };

        command.SetAction(parseResult =>
        {
            var options = new UblkDeviceOptions
            {
                Queues = parseResult.GetValue(queues),
                QueueDepth = parseResult.GetValue(depth),
                MaxIoBytes = checked((int)(parseResult.GetValue(maxIo) ?? UblkDeviceOptions.DefaultMaxIoBytes)),
                DeviceId = parseResult.GetValue(id),
                UserRecovery = !parseResult.GetValue(noRecovery),
            };
            return Run(parseResult.GetValue(backend)!, parseResult.GetValue(size), parseResult.GetValue(blockSize), options,
                parseResult.GetValue(recover), parseResult.GetValue(verbose));
        });
        return command;
    }

    private static long? ParseSizeArgument(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (ByteSize.TryParse(text, out long bytes))
        {
            return bytes;
        }

        result.AddError($"'{text}' is not a size (examples: 4096, 64MiB, 1GiB).");
        return null;
    }

    private static int Run(string backendSpec, long? sizeBytes, int blockSize, UblkDeviceOptions options, int? recoverId, bool verbose)
    {
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information)
            // Logs go to stderr; stdout carries only the "ready" line and the final statistics.
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            }));
        ILogger logger = loggerFactory.CreateLogger("s3block.serve-backend");

        IBlockBackend backend;
        try
        {
            backend = CreateBackend(backendSpec, sizeBytes, blockSize);
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"serve-backend: {e.Message}");
            return ExitCodes.ConfigurationError;
        }

        try
        {
            using var stop = new ManualResetEventSlim();
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Cancel(context, stop));
            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Cancel(context, stop));

            var latency = new LatencySummary();
            using UblkDevice device = recoverId is int deviceId
                ? UblkDevice.Recover(deviceId, backend, logger, latency)
                : UblkDevice.Create(options, backend, logger, latency);
            Console.Out.WriteLine($"ready: {device.Info.BlockDevicePath} (id {device.Info.DeviceId}, {device.Info.SizeBytes} bytes, pid {Environment.ProcessId})");
            Console.Out.Flush();

            stop.Wait();
            device.Delete();
            Console.Out.WriteLine($"stopped: {device.Info.BlockDevicePath}: {device.Stats}; {latency}");
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is UblkDeviceException or ErrnoException)
        {
            Console.Error.WriteLine($"serve-backend: {e.Message}");
            return ExitCodes.Failure;
        }
        finally
        {
            backend.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Mean request latency as the queues see it (from taking a request to committing it).</summary>
    private sealed class LatencySummary : IUblkRequestObserver
    {
        private long _requests;
        private long _ticks;

        public void RequestCompleted(UblkIoOp op, long bytes, TimeSpan elapsed, UblkRequestOutcome outcome)
        {
            Interlocked.Increment(ref _requests);
            Interlocked.Add(ref _ticks, elapsed.Ticks);
        }

        public override string ToString()
        {
            long requests = Volatile.Read(ref _requests);
            double meanMicroseconds = requests == 0 ? 0 : TimeSpan.FromTicks(Volatile.Read(ref _ticks) / requests).TotalMicroseconds;
            return $"{requests} requests, mean latency {meanMicroseconds:F0} us";
        }
    }

    private static void Cancel(PosixSignalContext context, ManualResetEventSlim stop)
    {
        context.Cancel = true; // we shut down ourselves: stop and delete the device first
        stop.Set();
    }

    private static IBlockBackend CreateBackend(string spec, long? sizeBytes, int blockSize)
    {
        if (spec.StartsWith("file:", StringComparison.Ordinal))
        {
            return FileBackend.Open(spec["file:".Length..], sizeBytes, blockSize);
        }

        long size = sizeBytes ?? throw new ArgumentException($"--size is required with --backend {spec}");
        return spec switch
        {
            "null" => new NullBackend(size, blockSize),
            "memory" => new MemoryBackend(size, blockSize),
            _ => throw new ArgumentException($"unknown backend '{spec}': use null, memory or file:PATH"),
        };
    }
}
