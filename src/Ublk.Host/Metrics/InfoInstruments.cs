using System.Diagnostics.Metrics;
using System.Globalization;

namespace S3Block.Ublk.Metrics;

/// <summary>Pseudo-metrics whose labels carry facts: <c>s3block_build_info</c> and <c>s3block_device_info</c>.</summary>
internal sealed class InfoInstruments
{
    public InfoInstruments(Meter meter, string version, TimeProvider time)
    {
        Device = new SnapshotSource<DeviceSnapshot>(time);
        KeyValuePair<string, object?>[] buildTags = [Observations.Tag("version", version)];
        meter.CreateObservableGauge("s3block_build_info", () => Observations.One(1L, buildTags), null,
            "Always 1; the version label is the daemon's version.");
        meter.CreateObservableGauge("s3block_device_info", ObserveDeviceInfo, null,
            "Always 1 while a device is served; labels: ublk device id, volume name, chunk size in bytes.");
        meter.CreateObservableGauge("s3block_device_size_bytes",
            () => Observations.From(Device, d => d.SizeBytes), "By", "Size of the served block device in bytes.");
    }

    public SnapshotSource<DeviceSnapshot> Device { get; }

    private IEnumerable<Measurement<long>> ObserveDeviceInfo() =>
        Device.Get() is { } d
            ? Observations.One(1L,
                Observations.Tag("dev_id", d.DevId.ToString(CultureInfo.InvariantCulture)),
                Observations.Tag("volume", d.Volume),
                Observations.Tag("chunk_bytes", d.ChunkBytes.ToString(CultureInfo.InvariantCulture)))
            : Observations.None<long>();
}
