using System.Buffers.Binary;
using Ublk.Server.Interop;
using Ublk.Server.IoUring;

namespace S3Block.Ublk.Tests.Interop;

/// <summary>The bytes a ublk SQE carries, checked at the raw offsets of docs/ublk-protocol.md §1.3, §1.4, §2.4.</summary>
public sealed unsafe class SqePrepTests
{
    [Fact]
    public void ControlCommandLandsAtOffset48OfA128ByteSqe()
    {
        byte[] raw = new byte[128]; // zeroed, as IoUringRing.GetSqe hands slots out
        using var fd = new FileDescriptorHandle(7);
        var header = new UblksrvCtrlCmd { DevId = 3, QueueId = 0xFFFF, Len = 64, Addr = 0x1122334455667788, Data0 = 4242 };
        fixed (byte* p = raw)
        {
            SqePrep.UblkControl((IoUringSqe*)p, fd, 0xC0207504, header, 99);
        }

        fd.SetHandleAsInvalid(); // not ours to close
        Assert.Equal(46, raw[0]);
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(4)));
        Assert.Equal(0xC0207504u, BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(8)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(12))); // __pad1 must be 0
        Assert.Equal(99ul, BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(32)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(48)));
        Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(52)));
        Assert.Equal(64, BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(54)));
        Assert.Equal(0x1122334455667788ul, BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(56)));
        Assert.Equal(4242ul, BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(64)));
        Assert.All(raw[80..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void IoCommandLandsAtOffset48OfA64ByteSqe()
    {
        byte[] raw = new byte[64];
        using var fd = new FileDescriptorHandle(9);
        var command = new UblksrvIoCmd { QId = 1, Tag = 77, Result = -5, Addr = 0xABCDEF000 };
        fixed (byte* p = raw)
        {
            SqePrep.UblkIo((IoUringSqe*)p, fd, 0xC0107521, command, 77);
        }

        fd.SetHandleAsInvalid();
        Assert.Equal(46, raw[0]);
        Assert.Equal(0, raw[1]); // no IOSQE_ASYNC: the queue thread must issue the command itself
        Assert.Equal(9, BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(4)));
        Assert.Equal(0xC0107521u, BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(8)));
        Assert.Equal(77ul, BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(32)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(48)));
        Assert.Equal(77, BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(50)));
        Assert.Equal(-5, BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(52)));
        Assert.Equal(0xABCDEF000ul, BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(56)));
    }
}
