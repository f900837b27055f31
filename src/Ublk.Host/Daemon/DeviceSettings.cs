using Ublk.Server.Device;

namespace S3Block.Ublk.Daemon;

/// <summary>The ublk device's shape. Bound from the <c>Device</c> section.</summary>
internal sealed class DeviceSettings
{
    public const string Section = "Device";

    /// <summary>Hardware queues, each served by its own thread. Default: 2.</summary>
    public int Queues { get; set; } = 2;

    /// <summary>Requests in flight per queue. Default: 128.</summary>
    public int QueueDepth { get; set; } = 128;

    /// <summary>Largest request, in bytes. Default: 1 MiB.</summary>
    public long MaxIoBytes { get; set; } = UblkDeviceOptions.DefaultMaxIoBytes;

    /// <summary>The device number (<c>/dev/ublkbN</c>); -1 picks a free one. Default: -1.</summary>
    public int DeviceId { get; set; } = -1;

    public IEnumerable<string> Validate()
    {
        if (Queues is < 1 or > 64)
        {
            yield return $"{Section}:Queues: {Queues} is outside 1..64";
        }

        if (QueueDepth is < 1 or > 4096)
        {
            yield return $"{Section}:QueueDepth: {QueueDepth} is outside 1..4096";
        }

        if (MaxIoBytes is < 4096 or > (32 << 20) || MaxIoBytes % 4096 != 0)
        {
            yield return $"{Section}:MaxIoBytes: {MaxIoBytes} must be a multiple of 4096 from 4KiB to 32MiB";
        }

        if (DeviceId < -1)
        {
            yield return $"{Section}:DeviceId: {DeviceId} must be -1 (any) or a device number";
        }
    }

    /// <param name="ownerTag">What the device carries as its owner (<see cref="DeviceOwnerTag"/>).</param>
    public UblkDeviceOptions ToDeviceOptions(ulong ownerTag = 0) => new()
    {
        ServerTag = ownerTag,
        Queues = Queues,
        QueueDepth = QueueDepth,
        MaxIoBytes = (int)MaxIoBytes,
        DeviceId = DeviceId,
        UserRecovery = true,
    };
}
