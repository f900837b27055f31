using System.Globalization;
using Prometheus;

namespace S3Block.Ublk.Metrics;

/// <summary>Pseudo-metrics whose labels carry facts: <c>s3block_build_info</c> and <c>s3block_device_info</c>.</summary>
internal sealed class InfoInstruments
{
    public InfoInstruments(IMetricFactory factory, string version)
    {
        factory.CreateGauge("s3block_build_info", "Always 1; the version label is the daemon's version.", ["version"])
            .WithLabels(version).Set(1);

        var info = factory.CreateGauge("s3block_device_info",
            "Always 1 while a device is served; labels: chunk size in bytes, ublk device id, volume name.",
            ["chunk_bytes", "dev_id", "volume"], new GaugeConfiguration { SuppressInitialValue = true });
        Device = new SnapshotSeries<DeviceSnapshot>(factory);
        Device.Custom(
            d =>
            {
                string[] labels =
                [
                    d.ChunkBytes.ToString(CultureInfo.InvariantCulture), d.DevId.ToString(CultureInfo.InvariantCulture), d.Volume,
                ];
                RemoveAll(info, except: labels);
                info.WithLabels(labels).Set(1);
            },
            () => RemoveAll(info, except: null));
        Device.Gauge("s3block_device_size_bytes", "Size of the served block device in bytes.", d => d.SizeBytes);
    }

    public SnapshotSeries<DeviceSnapshot> Device { get; }

    private static void RemoveAll(Gauge gauge, string[]? except)
    {
        foreach (var labels in gauge.GetAllLabelValues().ToList())
        {
            if (except is null || !labels.SequenceEqual(except))
            {
                gauge.RemoveLabelled(labels);
            }
        }
    }
}
