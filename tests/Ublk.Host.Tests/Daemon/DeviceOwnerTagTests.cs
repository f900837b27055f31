using S3Block.Ublk.Daemon;

namespace S3Block.Ublk.Tests.Daemon;

/// <summary>The owner tag a device carries in <c>dev_info.ublksrv_flags</c>.</summary>
public sealed class DeviceOwnerTagTests
{
    [Fact]
    public void TheTagIsStableForOneBindingAndDiffersForAnotherVolumeOrBinding()
    {
        var volume = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var binding = Guid.Parse("7c9e6679-7425-40de-944b-e07fc1f90ae7");

        var tag = DeviceOwnerTag.Compute(volume, binding);

        Assert.Equal(tag, DeviceOwnerTag.Compute(volume, binding));
        Assert.NotEqual(tag, DeviceOwnerTag.Compute(Guid.NewGuid(), binding));
        Assert.NotEqual(tag, DeviceOwnerTag.Compute(volume, Guid.NewGuid()));
        Assert.NotEqual(tag, DeviceOwnerTag.Compute(binding, volume)); // the two ids have their places
    }

    [Fact]
    public void EveryTagCarriesTheMagicAndOtherServersFlagsDoNot()
    {
        var tags = Enumerable.Range(0, 1000).Select(_ => DeviceOwnerTag.Compute(Guid.NewGuid(), Guid.NewGuid())).ToList();

        Assert.All(tags, t => Assert.True(DeviceOwnerTag.IsS3Block(t)));
        Assert.Equal(tags.Count, tags.Distinct().Count());
        // What ublksrv keeps there (its own flag bits), and S3Block before device binding (0).
        Assert.False(DeviceOwnerTag.IsS3Block(0));
        Assert.False(DeviceOwnerTag.IsS3Block(0x3));
        Assert.False(DeviceOwnerTag.IsS3Block(ulong.MaxValue));
        Assert.Matches("^0x5342[0-9a-f]{12}$", DeviceOwnerTag.Format(tags[0]));
    }
}
