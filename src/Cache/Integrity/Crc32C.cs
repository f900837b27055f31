using System.Buffers.Binary;
using System.Numerics;

namespace S3Block.Cache.Integrity;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), computed with the CPU's CRC32 instruction through
/// <see cref="BitOperations.Crc32C(uint, ulong)"/>.
/// </summary>
/// <remarks>
/// <para>Convention: the standard one (iSCSI, ext4, the S3 <c>x-amz-checksum-crc32c</c> header): the register starts
/// at <see cref="InitialState"/> and the final value is the register xor 0xFFFFFFFF, so
/// <c>Compute("123456789") == 0xE3069283</c>.</para>
/// <para><see cref="Update"/> works on the raw register (no final xor), so a checksum over several pieces is
/// <c>Finish(Update(Update(InitialState, a), b))</c>, which equals <c>Compute(a ++ b)</c>.</para>
/// </remarks>
public static class Crc32C
{
    /// <summary>The register value before any byte is processed.</summary>
    public const uint InitialState = 0xFFFFFFFF;

    /// <summary>The standard CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Update(InitialState, data));

    /// <summary>Feeds <paramref name="data"/> into a raw register <paramref name="state"/> and returns the new register.</summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        // 8 bytes per instruction; the instruction consumes the low-order byte first, i.e. little-endian order.
        var whole = data.Length & ~7;
        var i = 0;
        for (; i < whole; i += 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i, 8)));
        }

        for (; i < data.Length; i++)
        {
            state = BitOperations.Crc32C(state, data[i]);
        }

        return state;
    }

    /// <summary>Turns a raw register into the published checksum (xor 0xFFFFFFFF).</summary>
    public static uint Finish(uint state) => ~state;
}
