using S3Block.Cache.Journal;
using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary><see cref="ExtentCoverage"/> against a byte-by-byte oracle on random extents and ranges.</summary>
public sealed class ExtentCoverageTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Agrees_with_a_byte_by_byte_oracle(int seed)
    {
        var random = new Random(seed);
        const int chunk = 64 * 1024;
        for (var round = 0; round < 2000; round++)
        {
            var extents = Enumerable.Range(0, random.Next(0, 12)).Select(i => RandomExtent(random, chunk, i)).ToArray();
            var offset = random.Next(0, chunk / 512) * 512 + (random.Next(4) == 0 ? random.Next(512) : 0);
            var length = Math.Min(chunk - offset, (random.Next(1, 40) * 512) + (random.Next(4) == 0 ? random.Next(512) : 0));
            length = Math.Max(length, 1);

            var expected = Oracle(extents, offset, length);
            var actual = ExtentCoverage.NewestCoveringStart(extents, offset, length);

            Assert.True(expected == actual, $"seed {seed} round {round}: expected {expected}, got {actual} for [{offset}, +{length}) over "
                + string.Join(", ", extents.Select(e => $"[{e.OffsetInChunk}, +{e.Length})")));
        }
    }

    /// <summary>What the volume relies on, byte for byte: extents start.. applied over garbage give what all of them
    /// applied over the old image give. Chunks up to the largest (32 MiB: the bitmap is then rented, not on the stack).</summary>
    [Theory]
    [InlineData(11, 64 * 1024, 1500)]
    [InlineData(12, 4 * 1024 * 1024, 100)]
    [InlineData(13, 32 * 1024 * 1024, 12)]
    public void Applying_the_covering_extents_over_garbage_gives_the_bytes_of_all_of_them_over_the_old_image(int seed, int chunk, int rounds)
    {
        var random = new Random(seed);
        var old = new byte[chunk];
        random.NextBytes(old);
        var covered = 0;
        for (var round = 0; round < rounds; round++)
        {
            var count = random.Next(1, 10);
            var tiles = random.Next(3) == 0; // sequential writes that together rewrite the chunk
            var extents = new DirtyExtent[count];
            var payloads = new byte[count][];
            for (var i = 0; i < count; i++)
            {
                var extent = tiles
                    ? Extent(i, i * (chunk / count / 512 * 512), i == count - 1 ? chunk - (i * (chunk / count / 512 * 512)) : chunk / count / 512 * 512)
                    : RandomExtent(random, chunk, i);
                extents[i] = extent with { IsZero = random.Next(6) == 0 };
                payloads[i] = new byte[extent.Length];
                random.NextBytes(payloads[i]);
            }

            var offset = random.Next(2) == 0 ? 0 : random.Next(0, chunk / 512) * 512;
            var length = offset == 0 && random.Next(2) == 0 ? chunk : Math.Min(chunk - offset, random.Next(1, 200) * 512);
            var start = ExtentCoverage.NewestCoveringStart(extents, offset, length);
            if (start < 0)
            {
                continue;
            }

            covered++;
            var expected = old.AsSpan(offset, length).ToArray();
            Apply(extents, payloads, 0, offset, expected);
            var actual = new byte[length];
            actual.AsSpan().Fill(0xEE);
            Apply(extents, payloads, start, offset, actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"seed {seed} round {round}: start {start} for [{offset}, +{length})");
        }

        Assert.True(covered > rounds / 10, $"only {covered} of {rounds} ranges were covered: the test checks too little");
    }

    [Fact]
    public void Four_quarters_cover_a_chunk_that_no_single_one_covers()
    {
        var quarters = Enumerable.Range(0, 4).Select(i => Extent(i, i * 1024 * 1024, 1024 * 1024)).ToArray();

        Assert.Equal(0, ExtentCoverage.NewestCoveringStart(quarters, 0, 4 * 1024 * 1024));
        Assert.Equal(-1, ExtentCoverage.NewestCoveringStart(quarters.AsSpan(1), 0, 4 * 1024 * 1024));
        Assert.Equal(2, ExtentCoverage.NewestCoveringStart(quarters, 2 * 1024 * 1024, 2 * 1024 * 1024));
    }

    [Fact]
    public void An_unaligned_extent_counts_only_for_the_sectors_it_writes_in_full()
    {
        // Together they touch every byte of [0, 1024) but the first one writes only part of sector 0 (and sector 1 in full).
        var extents = new[] { Extent(0, 100, 924), Extent(1, 0, 512) };

        Assert.Equal(0, ExtentCoverage.NewestCoveringStart(extents, 0, 1024)); // sector 1 by the first, sector 0 by the second
        Assert.Equal(-1, ExtentCoverage.NewestCoveringStart(extents.AsSpan(0, 1), 0, 1024));
    }

    /// <summary>The largest i such that extents i.. cover every sector the range touches; sectors count only when an extent writes them in full.</summary>
    private static int Oracle(DirtyExtent[] extents, int offset, int length)
    {
        var firstSector = offset / 512;
        var lastSector = (offset + length - 1) / 512;
        var covered = new bool[lastSector - firstSector + 1];
        for (var i = extents.Length - 1; i >= 0; i--)
        {
            for (var s = firstSector; s <= lastSector; s++)
            {
                if (extents[i].OffsetInChunk <= s * 512 && extents[i].End >= (s + 1) * 512)
                {
                    covered[s - firstSector] = true;
                }
            }

            if (covered.All(c => c))
            {
                return i;
            }
        }

        return -1;
    }

    private static void Apply(DirtyExtent[] extents, byte[][] payloads, int from, int offset, Span<byte> destination)
    {
        for (var i = from; i < extents.Length; i++)
        {
            var extent = extents[i];
            var start = Math.Max(offset, extent.OffsetInChunk);
            var end = Math.Min(offset + destination.Length, extent.End);
            if (start >= end)
            {
                continue;
            }

            var target = destination[(start - offset)..(end - offset)];
            if (extent.IsZero)
            {
                target.Clear();
            }
            else
            {
                payloads[i].AsSpan(start - extent.OffsetInChunk, end - start).CopyTo(target);
            }
        }
    }

    private static DirtyExtent RandomExtent(Random random, int chunk, int sequence)
    {
        var offset = random.Next(0, chunk / 512) * 512;
        var length = random.Next(0, 3) switch
        {
            0 => random.Next(1, 9) * 512,
            1 => random.Next(1, 64) * 512,
            _ => chunk / 4,
        };
        if (random.Next(8) == 0)
        {
            offset += random.Next(1, 512); // unaligned now and then: counts only for its whole sectors
        }

        return Extent(sequence, offset, Math.Min(length, chunk - offset));
    }

    private static DirtyExtent Extent(long sequence, int offset, int length) =>
        new(sequence, offset, length, new JournalPosition(), 0, IsZero: false, JournaledAt: 0);
}
