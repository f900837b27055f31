using System.Text;
using S3Block.Cache.Integrity;

namespace S3Block.Tests.Integrity;

public sealed class Crc32CTests
{
    [Fact]
    public void Standard_check_value_of_123456789()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Empty_input_gives_zero()
    {
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Known_vector_32_bytes_of_zeros()
    {
        // RFC 3720 (iSCSI) appendix B.4: 32 bytes of 00h.
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
    }

    [Fact]
    public void Matches_a_bitwise_reference_for_every_length_and_tail()
    {
        var data = S3Block.Tests.Journal.JournalTestKit.Payload(300, seed: 7);
        for (var length = 0; length <= data.Length; length++)
        {
            Assert.Equal(Reference(data.AsSpan(0, length)), Crc32C.Compute(data.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Incremental_updates_equal_one_shot()
    {
        var data = S3Block.Tests.Journal.JournalTestKit.Payload(1000, seed: 3);
        for (var split = 0; split <= data.Length; split += 37)
        {
            var state = Crc32C.Update(Crc32C.InitialState, data.AsSpan(0, split));
            state = Crc32C.Update(state, data.AsSpan(split));
            Assert.Equal(Crc32C.Compute(data), Crc32C.Finish(state));
        }
    }

    /// <summary>Inputs long enough for the three-lane path (4080-byte stripes), with lengths around the stripe edges and
    /// random ones, split at random points: always the bitwise reference's value.</summary>
    [Fact]
    public void Matches_the_bitwise_reference_across_three_lane_stripes_at_every_split()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var data = new byte[3 * 4080 * 3];
        random.NextBytes(data);
        int[] edges = [4079, 4080, 4081, 4096, 8159, 8160, 8161, 12240, data.Length];
        foreach (var length in edges.Concat(Enumerable.Range(0, 40).Select(_ => random.Next(data.Length + 1))))
        {
            var expected = Reference(data.AsSpan(0, length));
            Assert.True(expected == Crc32C.Compute(data.AsSpan(0, length)), $"seed {seed}, length {length}");
            var split = random.Next(length + 1);
            var state = Crc32C.Update(Crc32C.InitialState, data.AsSpan(0, split));
            Assert.True(expected == Crc32C.Finish(Crc32C.Update(state, data.AsSpan(split, length - split))), $"seed {seed}, length {length}, split {split}");
        }
    }

    private static uint Reference(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}
