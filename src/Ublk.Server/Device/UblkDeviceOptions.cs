using System.Numerics;
using Ublk.Server.Interop;

namespace Ublk.Server.Device;

/// <summary>How to create a ublk device. Sizes are in bytes.</summary>
public sealed class UblkDeviceOptions
{
    public const int DefaultMaxIoBytes = 1 << 20;

    /// <summary>Hardware queues, each served by its own OS thread and io_uring.</summary>
    /// <remarks>Defaults to 1. The kernel clamps it to the number of possible CPUs.</remarks>
    public int Queues { get; init; } = 1;

    /// <summary>Requests in flight per queue (tags).</summary>
    /// <remarks>Defaults to 128; 1..4096. Memory: Queues × QueueDepth × MaxIoBytes of native buffers (committed lazily).</remarks>
    public int QueueDepth { get; init; } = 128;

    /// <summary>The largest request the kernel sends, and each tag's buffer size.</summary>
    /// <remarks>Defaults to 1 MiB; a multiple of 4096 between 4 KiB and 32 MiB.</remarks>
    public int MaxIoBytes { get; init; } = DefaultMaxIoBytes;

    /// <summary>The device's logical block size; 0 means the backend's.</summary>
    /// <remarks>Defaults to 0. A power of two from 512 to 4096 and a multiple of the backend's block size.</remarks>
    public int LogicalBlockSize { get; init; }

    /// <summary>The physical block size (also the minimum I/O size and the discard granularity).</summary>
    /// <remarks>Defaults to 4096; a power of two, at least the logical block size.</remarks>
    public int PhysicalBlockSize { get; init; } = 4096;

    /// <summary>The optimal I/O size the kernel advertises (io_opt); 0 means the largest power of two ≤ <see cref="MaxIoBytes"/>.</summary>
    public int OptimalIoBytes { get; init; }

    /// <summary>The device id (N in /dev/ublkbN); -1 lets the kernel choose.</summary>
    public int DeviceId { get; init; } = -1;

    /// <summary>
    /// Request UBLK_F_USER_RECOVERY + REISSUE: if the daemon dies the disk stays (I/O waits) until a new process
    /// recovers it. Block writes are idempotent, so reissuing in-flight requests is safe.
    /// </summary>
    /// <remarks>Defaults to true.</remarks>
    public bool UserRecovery { get; init; } = true;

    /// <summary>
    /// Who owns the device, kept by the kernel in <c>dev_info.ublksrv_flags</c> from ADD_DEV until DEL_DEV (across a
    /// server crash and any recovery) and returned by GET_DEV_INFO, so that a server recognizes its own device.
    /// </summary>
    /// <remarks>Defaults to 0 (no owner).</remarks>
    public ulong ServerTag { get; init; }

    /// <summary>Advertise DISCARD and WRITE_ZEROES.</summary>
    /// <remarks>Defaults to true.</remarks>
    public bool Discard { get; init; } = true;

    /// <summary>The logical block size to use with a backend whose own block size is <paramref name="backendBlockSize"/>.</summary>
    public int EffectiveLogicalBlockSize(int backendBlockSize) => LogicalBlockSize > 0 ? LogicalBlockSize : backendBlockSize;

    /// <summary>The optimal I/O size actually advertised.</summary>
    public int EffectiveOptimalIoBytes(int maxIoBytes) =>
        OptimalIoBytes > 0 ? OptimalIoBytes : 1 << BitOperations.Log2((uint)maxIoBytes);

    /// <summary>Checks the options against a backend; throws <see cref="UblkDeviceException"/> with a clear message.</summary>
    public void Validate(long sizeBytes, int backendBlockSize)
    {
        Require(Queues is >= 1 and <= UblkConstants.MaxNrQueues, $"queues must be 1..{UblkConstants.MaxNrQueues} (got {Queues})");
        Require(QueueDepth is >= 1 and <= UblkConstants.MaxQueueDepth, $"queue depth must be 1..{UblkConstants.MaxQueueDepth} (got {QueueDepth})");
        Require(MaxIoBytes is >= 4096 and <= (32 << 20) && MaxIoBytes % 4096 == 0, $"max I/O size must be a multiple of 4096 between 4 KiB and 32 MiB (got {MaxIoBytes})");
        Require(DeviceId is >= -1 and < (1 << 20), $"device id must be -1 (automatic) or 0..{(1 << 20) - 1} (got {DeviceId})");
        Require(backendBlockSize is >= 512 and <= 4096 && BitOperations.IsPow2(backendBlockSize), $"the backend's block size must be a power of two from 512 to 4096 (got {backendBlockSize})");

        int logical = EffectiveLogicalBlockSize(backendBlockSize);
        Require(logical is >= 512 and <= 4096 && BitOperations.IsPow2(logical), $"logical block size must be a power of two from 512 to 4096 (got {logical})");
        Require(logical % backendBlockSize == 0, $"logical block size {logical} must be a multiple of the backend's block size {backendBlockSize}");
        Require(PhysicalBlockSize >= logical && PhysicalBlockSize <= (1 << 16) && BitOperations.IsPow2(PhysicalBlockSize), $"physical block size must be a power of two from the logical block size ({logical}) to 64 KiB (got {PhysicalBlockSize})");
        int optimal = EffectiveOptimalIoBytes(MaxIoBytes);
        Require(optimal >= logical && BitOperations.IsPow2(optimal), $"optimal I/O size must be a power of two of at least {logical} bytes (got {optimal})");

        Require(sizeBytes > 0, $"device size must be positive (got {sizeBytes})");
        Require(sizeBytes % logical == 0, $"device size {sizeBytes} is not a multiple of the logical block size {logical}");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new UblkDeviceException("invalid ublk device options: " + message);
        }
    }
}
