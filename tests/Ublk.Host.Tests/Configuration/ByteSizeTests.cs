using S3Block.Ublk.Configuration;

namespace S3Block.Tests.Configuration;

public sealed class ByteSizeTests
{
    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("64KiB", 64L << 10)]
    [InlineData("64MiB", 64L << 20)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("2 TiB", 2L << 40)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("64mib", 64L << 20)]
    [InlineData("1GB", 1_000_000_000L)]
    [InlineData("10M", 10L << 20)]
    [InlineData("512B", 512L)]
    public void Sizes_parse(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("GiB")]
    [InlineData("-1MiB")]
    [InlineData("10XB")]
    [InlineData("0.3B")]
    [InlineData("99999999TiB")]
    public void Non_sizes_are_rejected(string text)
    {
        Assert.False(ByteSize.TryParse(text, out _));
    }

    [Theory]
    [InlineData(4L << 20, "4MiB")]
    [InlineData(1L << 30, "1GiB")]
    [InlineData(1000L, "1000")]
    [InlineData(3L << 29, "1536MiB")]
    public void Sizes_format_in_the_largest_exact_binary_unit(long bytes, string expected)
    {
        Assert.Equal(expected, ByteSize.Format(bytes));
    }

    [Fact]
    public void Settings_ending_in_Bytes_accept_sizes_and_name_the_key_when_wrong()
    {
        var good = AppConfiguration.Build(null, ["Journal:CapacityBytes=4GiB", "Cache:MemoryBudgetBytes=256MiB", "Store:Kind=local"]);
        Assert.Equal((4L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture), good["Journal:CapacityBytes"]);
        Assert.Equal("local", good["Store:Kind"]);

        var bad = Assert.Throws<ConfigurationProblemException>(() => AppConfiguration.Build(null, ["Journal:CapacityBytes=lots"]));
        Assert.StartsWith("Journal:CapacityBytes: 'lots' is not a size", bad.Message, StringComparison.Ordinal);
    }
}
