using System.Numerics;
using Ublk.Server.Interop;

namespace Ublk.Server.Device;

/// <summary>Builds the SET_PARAMS payload (BASIC + DISCARD; never DEVT) from validated options.</summary>
internal static class UblkParamsBuilder
{
    /// <summary>DISCARD/WRITE_ZEROES carry no data, so allow the largest request the 32-bit byte count can express.</summary>
    public const uint MaxDiscardSectors = uint.MaxValue >> UblkConstants.SectorShift;

    /// <param name="sizeBytes">Capacity; a multiple of the logical block size.</param>
    /// <param name="logicalBlockSize">512..4096.</param>
    /// <param name="physicalBlockSize">≥ logical; also io_min and the discard granularity.</param>
    /// <param name="maxIoBytes">The kernel's (page-rounded) max_io_buf_bytes from ADD_DEV.</param>
    /// <param name="optimalIoBytes">io_opt, a power of two.</param>
    /// <param name="discard">Advertise DISCARD and WRITE_ZEROES.</param>
    public static unsafe UblkParams Build(long sizeBytes, int logicalBlockSize, int physicalBlockSize, int maxIoBytes, int optimalIoBytes, bool discard)
    {
        var p = new UblkParams
        {
            Len = (uint)sizeof(UblkParams),
            Types = UblkParamTypes.Basic,
        };

        // VOLATILE_CACHE makes the kernel send FLUSH; FUA makes REQ_FUA reach us instead of becoming write+flush.
        p.Basic.Attrs = UblkAttrs.VolatileCache | UblkAttrs.Fua;
        p.Basic.LogicalBsShift = (byte)BitOperations.Log2((uint)logicalBlockSize);
        p.Basic.PhysicalBsShift = (byte)BitOperations.Log2((uint)physicalBlockSize);
        p.Basic.IoMinShift = p.Basic.PhysicalBsShift;
        p.Basic.IoOptShift = (byte)BitOperations.Log2((uint)optimalIoBytes);
        p.Basic.MaxSectors = (uint)maxIoBytes >> UblkConstants.SectorShift;
        p.Basic.DevSectors = (ulong)sizeBytes >> UblkConstants.SectorShift;

        if (discard)
        {
            p.Types |= UblkParamTypes.Discard;
            p.Discard.DiscardGranularity = (uint)physicalBlockSize;
            p.Discard.MaxDiscardSectors = MaxDiscardSectors;
            p.Discard.MaxWriteZeroesSectors = MaxDiscardSectors;
            p.Discard.MaxDiscardSegments = 1;
        }

        return p;
    }
}
