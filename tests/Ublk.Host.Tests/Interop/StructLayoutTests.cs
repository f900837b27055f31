using Tmds.Linux;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Interop;

/// <summary>
/// Every kernel struct's size and every field's offset, against docs/ublk-protocol.md (§1.3, §1.4, §1.6, §1.7,
/// §2.3, §2.4, §7.3). A field added to a struct without a row here fails <see cref="EveryFieldIsListed"/>.
/// </summary>
public sealed class StructLayoutTests
{
    /// <summary>
    /// IoUringSyscalls passes our <see cref="IoUringParams"/> to Tmds.LibC's io_uring_setup as its
    /// <c>io_uring_params</c>: both must be the same kernel struct, field for field.
    /// </summary>
    [Fact]
    public void TmdsLibCsIoUringParamsIsOurs()
    {
        Assert.Equal(Unsafe.SizeOf<IoUringParams>(), Unsafe.SizeOf<Tmds.Linux.io_uring_params>());
        (string Ours, string Theirs)[] fields =
        [
            ("SqEntries", "sq_entries"), ("CqEntries", "cq_entries"), ("Flags", "flags"), ("SqThreadCpu", "sq_thread_cpu"),
            ("SqThreadIdle", "sq_thread_idle"), ("Features", "features"), ("WqFd", "wq_fd"), ("SqOff", "sq_off"), ("CqOff", "cq_off"),
        ];
        foreach (var (ours, theirs) in fields)
        {
            Assert.Equal(Marshal.OffsetOf<IoUringParams>(ours), Marshal.OffsetOf<Tmds.Linux.io_uring_params>(theirs));
        }

        Assert.Equal(Unsafe.SizeOf<IoSqRingOffsets>(), Unsafe.SizeOf<Tmds.Linux.io_sqring_offsets>());
        Assert.Equal(Unsafe.SizeOf<IoCqRingOffsets>(), Unsafe.SizeOf<Tmds.Linux.io_cqring_offsets>());
    }

    public static TheoryData<string> StructNames => new(Layouts.Keys);

    private static readonly Dictionary<string, (Type Type, int Size, (string Field, int Offset)[] Fields)> Layouts = new()
    {
        ["io_uring_params"] = (typeof(IoUringParams), 120,
        [
            ("SqEntries", 0), ("CqEntries", 4), ("Flags", 8), ("SqThreadCpu", 12), ("SqThreadIdle", 16), ("Features", 20),
            ("WqFd", 24), ("Resv", 28), ("SqOff", 40), ("CqOff", 80),
        ]),
        ["io_sqring_offsets"] = (typeof(IoSqRingOffsets), 40,
        [
            ("Head", 0), ("Tail", 4), ("RingMask", 8), ("RingEntries", 12), ("Flags", 16), ("Dropped", 20), ("Array", 24),
            ("Resv1", 28), ("UserAddr", 32),
        ]),
        ["io_cqring_offsets"] = (typeof(IoCqRingOffsets), 40,
        [
            ("Head", 0), ("Tail", 4), ("RingMask", 8), ("RingEntries", 12), ("Overflow", 16), ("Cqes", 20), ("Flags", 24),
            ("Resv1", 28), ("UserAddr", 32),
        ]),
        ["io_uring_sqe"] = (typeof(IoUringSqe), 64,
        [
            ("Opcode", 0), ("Flags", 1), ("IoPrio", 2), ("Fd", 4), ("Offset", 8), ("CmdOp", 8), ("Pad1", 12), ("Addr", 16),
            ("Len", 24), ("OpFlags", 28), ("UserData", 32), ("BufIndex", 40), ("Personality", 42), ("FileIndex", 44),
            ("Addr3", 48), ("Pad2", 56), ("Cmd", 48),
        ]),
        ["io_uring_sqe (SQE128)"] = (typeof(IoUringSqe128), 128, [("Header", 0), ("Cmd", 48)]),
        ["io_uring_cqe"] = (typeof(io_uring_cqe), 16, [("user_data", 0), ("res", 8), ("flags", 12)]),
        ["ublksrv_ctrl_cmd"] = (typeof(UblksrvCtrlCmd), 32,
        [
            ("DevId", 0), ("QueueId", 4), ("Len", 6), ("Addr", 8), ("Data0", 16), ("DevPathLen", 24), ("Pad", 26), ("Reserved", 28),
        ]),
        ["ublksrv_ctrl_dev_info"] = (typeof(UblksrvCtrlDevInfo), 64,
        [
            ("NrHwQueues", 0), ("QueueDepth", 2), ("State", 4), ("Pad0", 6), ("MaxIoBufBytes", 8), ("DevId", 12),
            ("UblksrvPid", 16), ("Pad1", 20), ("Flags", 24), ("UblksrvFlags", 32), ("OwnerUid", 40), ("OwnerGid", 44),
            ("Reserved1", 48), ("Reserved2", 56),
        ]),
        ["ublk_params"] = (typeof(UblkParams), 80, [("Len", 0), ("Types", 4), ("Basic", 8), ("Discard", 40), ("Devt", 60)]),
        ["ublk_param_basic"] = (typeof(UblkParamBasic), 32,
        [
            ("Attrs", 0), ("LogicalBsShift", 4), ("PhysicalBsShift", 5), ("IoOptShift", 6), ("IoMinShift", 7), ("MaxSectors", 8),
            ("ChunkSectors", 12), ("DevSectors", 16), ("VirtBoundaryMask", 24),
        ]),
        ["ublk_param_discard"] = (typeof(UblkParamDiscard), 20,
        [
            ("DiscardAlignment", 0), ("DiscardGranularity", 4), ("MaxDiscardSectors", 8), ("MaxWriteZeroesSectors", 12),
            ("MaxDiscardSegments", 16), ("Reserved0", 18),
        ]),
        ["ublk_param_devt"] = (typeof(UblkParamDevt), 16, [("CharMajor", 0), ("CharMinor", 4), ("DiskMajor", 8), ("DiskMinor", 12)]),
        ["ublksrv_io_desc"] = (typeof(UblksrvIoDesc), 24, [("OpFlags", 0), ("NrSectors", 4), ("StartSector", 8), ("Addr", 16)]),
        ["ublksrv_io_cmd"] = (typeof(UblksrvIoCmd), 16, [("QId", 0), ("Tag", 2), ("Result", 4), ("Addr", 8)]),
    };

    [Theory]
    [MemberData(nameof(StructNames))]
    public void SizeMatchesTheKernel(string name)
    {
        (Type type, int size, _) = Layouts[name];
        Assert.Equal(size, Marshal.SizeOf(type));
        Assert.Equal(size, ManagedSize(type));
    }

    [Theory]
    [MemberData(nameof(StructNames))]
    public void EveryFieldOffsetMatchesTheKernel(string name)
    {
        (Type type, _, (string Field, int Offset)[] fields) = Layouts[name];
        foreach ((string field, int offset) in fields)
        {
            Assert.True(offset == (int)Marshal.OffsetOf(type, field), $"{name}.{field}: expected offset {offset}, got {(int)Marshal.OffsetOf(type, field)}");
        }
    }

    [Theory]
    [MemberData(nameof(StructNames))]
    public void EveryFieldIsListed(string name)
    {
        (Type type, _, (string Field, int Offset)[] fields) = Layouts[name];
        var declared = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Select(f => f.Name).Order();
        Assert.Equal(declared, fields.Select(f => f.Field).Order());
    }

    [Fact]
    public unsafe void ManagedLayoutAgreesWithMarshalLayoutForTheHotStructs()
    {
        // The code uses these through pointers, so check the managed layout directly too.
        IoUringSqe sqe = default;
        Assert.Equal(8, ByteOffset(ref sqe, ref sqe.CmdOp));
        Assert.Equal(32, ByteOffset(ref sqe, ref sqe.UserData));
        Assert.Equal(48, (int)(sqe.Cmd - (byte*)&sqe));

        UblksrvIoDesc desc = default;
        Assert.Equal(8, ByteOffset(ref desc, ref desc.StartSector));

        UblkParams p = default;
        Assert.Equal(8 + 16, ByteOffset(ref p, ref p.Basic.DevSectors));
        Assert.Equal(40 + 16, ByteOffset(ref p, ref p.Discard.MaxDiscardSegments));
        Assert.Equal(60 + 12, ByteOffset(ref p, ref p.Devt.DiskMinor));

        IoUringParams iop = default;
        Assert.Equal(80 + 20, ByteOffset(ref iop, ref iop.CqOff.Cqes));
        Assert.Equal(40 + 24, ByteOffset(ref iop, ref iop.SqOff.Array));
    }

    [Fact]
    public void IoDescriptorSplitsOpAndFlags()
    {
        var desc = new UblksrvIoDesc { OpFlags = (uint)UblkIoOp.Write | (uint)UblkIoFlags.Fua };
        Assert.Equal(UblkIoOp.Write, desc.Op);
        Assert.Equal(UblkIoFlags.Fua, desc.IoFlags);
    }

    private static int ByteOffset<TStruct, TField>(ref TStruct s, ref TField field) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref s), ref Unsafe.As<TField, byte>(ref field));

    private static int ManagedSize(Type type) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
}
