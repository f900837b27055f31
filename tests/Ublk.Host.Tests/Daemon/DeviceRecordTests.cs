using S3Block.Ublk.Daemon;

namespace S3Block.Ublk.Tests.Daemon;

/// <summary>The device record: a hint stamped with the boot it was written in.</summary>
public sealed class DeviceRecordTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"s3block-devicerecord-{Guid.NewGuid():N}");

    private string RecordPath => Path.Combine(_folder, "vol1", DeviceRecord.FileName);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void ARecordReadsBackInTheBootItWasWrittenAndIsNoRecordInAnother()
    {
        var record = new DeviceRecord("boot-a", Guid.NewGuid(), Guid.NewGuid(), 3);
        DeviceRecord.Write(RecordPath, record);

        Assert.Equal(record, DeviceRecord.ReadFromBoot(RecordPath, "boot-a"));
        Assert.Null(DeviceRecord.ReadFromBoot(RecordPath, "boot-b"));
        Assert.Contains($"\"ownerTag\": \"{DeviceOwnerTag.Format(record.Tag)}\"", File.ReadAllText(RecordPath), StringComparison.Ordinal);
        Assert.False(File.Exists(RecordPath + ".tmp"));
    }

    [Fact]
    public void ABindingWithoutADeviceYetReadsBackWithoutOne()
    {
        var record = new DeviceRecord("boot-a", Guid.NewGuid(), Guid.NewGuid(), null);
        DeviceRecord.Write(RecordPath, record);
        Assert.Equal(record, DeviceRecord.ReadFromBoot(RecordPath, "boot-a"));

        DeviceRecord.Write(RecordPath, record with { DeviceId = 0 });
        Assert.Equal(0, DeviceRecord.ReadFromBoot(RecordPath, "boot-a")?.DeviceId);
    }

    [Theory]
    [InlineData("{ \"deviceId\": 4 }\n")] // before device binding: no boot, no binding
    [InlineData("{ not json")]
    [InlineData("")]
    [InlineData("{ \"bootId\": \"boot-a\", \"volumeId\": \"nope\", \"binding\": \"7c9e6679-7425-40de-944b-e07fc1f90ae7\" }")]
    public void AnOldUnreadableOrPartialRecordIsNoRecord(string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(RecordPath)!);
        File.WriteAllText(RecordPath, content);

        Assert.Null(DeviceRecord.ReadFromBoot(RecordPath, "boot-a"));
        Assert.Null(DeviceRecord.Read(Path.Combine(_folder, "missing", DeviceRecord.FileName)));
    }

    [Fact]
    public void TheCurrentBootIdIsTheKernels()
    {
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), BootId.Current);
    }
}
