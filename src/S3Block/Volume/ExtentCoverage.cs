using System.Buffers;
using System.Numerics;

namespace S3Block.Volume;

/// <summary>
/// Which of a chunk's dirty extents decide a range by themselves, so that the committed data under them need not be
/// read (from the cache or, on a miss, from S3): a chunk overwritten by several writes, none covering it all (1 MiB
/// sequential writes into a 4 MiB chunk), is uploaded without fetching its old image first.
/// </summary>
internal static class ExtentCoverage
{
    /// <summary>Coverage is tracked per 512-byte sector, the smallest block a device write can have.</summary>
    private const int SectorShift = 9;

    /// <summary>
    /// The largest index <c>i</c> such that <paramref name="extents"/>[i..] (in sequence order) together cover every
    /// byte of the range, or -1 when even all of them leave a hole. Applying extents i.. in order then yields the
    /// range's bytes whatever the destination held before.
    /// </summary>
    /// <remarks>Conservative for unaligned extents: only the sectors an extent covers entirely count.</remarks>
    public static int NewestCoveringStart(ReadOnlySpan<DirtyExtent> extents, int offset, int length)
    {
        if (length <= 0 || extents.IsEmpty)
        {
            return length <= 0 ? extents.Length : -1;
        }

        if (extents[^1].Covers(offset, length))
        {
            return extents.Length - 1; // the usual case, without the bitmap
        }

        var first = offset >> SectorShift;
        var sectors = ((offset + length - 1) >> SectorShift) - first + 1;
        var words = (sectors + 63) >> 6;
        ulong[]? rented = null;
        var covered = words <= 128 ? stackalloc ulong[words] : (rented = ArrayPool<ulong>.Shared.Rent(words)).AsSpan(0, words);
        covered.Clear();
        try
        {
            var left = sectors;
            for (var i = extents.Length - 1; i >= 0; i--)
            {
                var extent = extents[i];
                // Sectors of the range that this extent writes in full.
                var from = Math.Max((extent.OffsetInChunk + (1 << SectorShift) - 1) >> SectorShift, first);
                var to = Math.Min(extent.End >> SectorShift, first + sectors); // exclusive
                if (from < to)
                {
                    left -= MarkNew(covered, from - first, to - first);
                    if (left == 0)
                    {
                        return i;
                    }
                }
            }

            return -1;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ulong>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Sets bits [from, to) and returns how many were not set before.</summary>
    private static int MarkNew(Span<ulong> bits, int from, int to)
    {
        var added = 0;
        while (from < to)
        {
            var word = from >> 6;
            var bit = from & 63;
            var count = Math.Min(64 - bit, to - from);
            var mask = count == 64 ? ulong.MaxValue : ((1UL << count) - 1) << bit;
            added += BitOperations.PopCount(mask & ~bits[word]);
            bits[word] |= mask;
            from += count;
        }

        return added;
    }
}
