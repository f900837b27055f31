using Ublk.Server.Device;

namespace S3Block.Ublk.Tests.Device;

public sealed class MemlockLimitTests
{
    [Fact]
    public void A_finite_limit_is_the_soft_value_with_its_unit()
    {
        string[] limits =
        [
            "Limit                     Soft Limit           Hard Limit           Units     ",
            "Max open files            1024                 524288               files     ",
            "Max locked memory         8388608              16777216             bytes     ",
        ];
        Assert.Equal("8388608 bytes", MemlockLimit.Parse(limits));
    }

    [Fact]
    public void An_unlimited_limit_says_so() =>
        Assert.Equal("unlimited", MemlockLimit.Parse(["Max locked memory         unlimited            unlimited            bytes     "]));

    [Fact]
    public void No_line_is_no_answer() => Assert.Null(MemlockLimit.Parse(["Max open files 1024 1024 files"]));

    [Fact]
    public void This_process_has_a_readable_limit() => Assert.NotEqual("unknown", MemlockLimit.Describe());
}
