using System.Buffers.Binary;
using System.Security.Cryptography;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// The 64-bit tag that ties a ublk device to the volume it serves, stored by the kernel in the device itself
/// (<c>dev_info.ublksrv_flags</c>: set at ADD_DEV, kept across a daemon crash and recovery, gone with the device).
/// </summary>
/// <remarks>
/// <para>The top 16 bits are <see cref="Magic"/> ("SB"), so that <c>list</c> tells S3Block's devices from other ublk
/// servers' (ublksrv keeps small flag bits in that field, older S3Block versions 0). The low 48 bits are a SHA-256 of
/// the volume's id (<see cref="S3Block.Volume.VolumeDescriptor.VolumeId"/>, unique per created volume) and a random
/// binding id kept with the volume's journal (<see cref="JournalBinding"/>): a false match between two bindings has a
/// chance of 2^-48.</para>
/// <para>The binding id changes whenever what a device showed can no longer be continued (the journal was lost or
/// moved aside, another node wrote the volume since, the volume was re-created), so a device from before such a break
/// is never taken as this volume's again.</para>
/// </remarks>
internal static class DeviceOwnerTag
{
    public const ulong Magic = 0x5342_0000_0000_0000;

    private const ulong MagicMask = 0xFFFF_0000_0000_0000;
    private static readonly byte[] Domain = "s3block/device-owner/v1"u8.ToArray();

    public static ulong Compute(Guid volumeId, Guid binding)
    {
        Span<byte> input = stackalloc byte[Domain.Length + 32];
        Domain.CopyTo(input);
        volumeId.TryWriteBytes(input.Slice(Domain.Length, 16));
        binding.TryWriteBytes(input.Slice(Domain.Length + 16, 16));
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, hash);
        return Magic | (BinaryPrimitives.ReadUInt64BigEndian(hash) & ~MagicMask);
    }

    /// <summary>Whether <paramref name="tag"/> was made by <see cref="Compute"/> (of some volume, on some state folder).</summary>
    public static bool IsS3Block(ulong tag) => (tag & MagicMask) == Magic;

    public static string Format(ulong tag) => $"0x{tag:x16}";
}
