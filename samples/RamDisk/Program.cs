using System.Runtime.InteropServices;
using Ublk.Server.Block;
using Ublk.Server.Device;
using Samples.RamDisk;

// Serves a RAM disk as /dev/ublkbN until SIGTERM or Ctrl+C, then removes the device. Needs root and ublk_drv.
// First of all: IO_FLUSHER for every thread the runtime will start (re-executes this program once; see the class).
ProcessIoFlusher.EnsureBeforeRuntimeThreads(servesDevice: true);

long sizeBytes = args.Length > 0 ? long.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 64L << 20;

BlockDevices.RequireUblkDriver();
await using IBlockBackend backend = new RamDiskBackend(sizeBytes);
var options = new UblkDeviceOptions { Queues = 2, QueueDepth = 64, UserRecovery = false };

using var stop = new ManualResetEventSlim();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Set(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Set(); });

using (UblkDevice device = UblkDevice.Create(options, backend))
{
    Console.WriteLine($"ready: {device.Info.BlockDevicePath} ({device.Info.SizeBytes} bytes)");
    stop.Wait();
    device.Delete();
    Console.WriteLine($"stopped: {device.Stats}");
}
