using System.Buffers.Binary;

namespace S3Block.Tests.PowerCut;

/// <summary>
/// The content of every 4 KiB block the workload writes: a header naming the write and the block, then bytes derived
/// from both. A block read back therefore says which write it holds, and whether it is whole.
/// </summary>
internal static class BlockPattern
{
    public const int BlockSize = 4096;
    private const ulong Magic = 0x314B4C4254554350; // "PCUTBLK1"

    /// <summary>What a block read back holds.</summary>
    public enum Kind
    {
        /// <summary>All zeros: never written (or written and lost).</summary>
        Zero,

        /// <summary>A whole block of write <c>WriteId</c>, at the right place.</summary>
        Write,

        /// <summary>Neither zeros nor a whole block of one write at this place: torn, misplaced or garbage.</summary>
        Damaged,
    }

    public static void Fill(Span<byte> block, long writeId, long blockIndex)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(block, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(block[8..], writeId);
        BinaryPrimitives.WriteInt64LittleEndian(block[16..], blockIndex);
        var state = Seed(writeId, blockIndex);
        for (var i = 24; i < BlockSize; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(block[i..], Next(ref state));
        }
    }

    /// <summary>Identifies a block read back at <paramref name="blockIndex"/>; <paramref name="writeId"/> is set for <see cref="Kind.Write"/>.</summary>
    public static Kind Identify(ReadOnlySpan<byte> block, long blockIndex, out long writeId)
    {
        writeId = 0;
        if (!block.ContainsAnyExcept((byte)0))
        {
            return Kind.Zero;
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(block) != Magic || BinaryPrimitives.ReadInt64LittleEndian(block[16..]) != blockIndex)
        {
            return Kind.Damaged;
        }

        var id = BinaryPrimitives.ReadInt64LittleEndian(block[8..]);
        var state = Seed(id, blockIndex);
        for (var i = 24; i < BlockSize; i += 8)
        {
            if (BinaryPrimitives.ReadUInt64LittleEndian(block[i..]) != Next(ref state))
            {
                return Kind.Damaged;
            }
        }

        writeId = id;
        return Kind.Write;
    }

    /// <summary>A short description of a damaged block for failure messages.</summary>
    public static string Describe(ReadOnlySpan<byte> block) =>
        $"header {Convert.ToHexString(block[..24])}, {block.Count((byte)0)} zero bytes";

    private static ulong Seed(long writeId, long blockIndex) =>
        ((ulong)writeId * 0x9E3779B97F4A7C15UL) ^ ((ulong)blockIndex * 0xC2B2AE3D27D4EB4FUL) ^ 0x5DEECE66DUL;

    // SplitMix64: cheap, and every (write, block) pair gets its own stream.
    private static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
