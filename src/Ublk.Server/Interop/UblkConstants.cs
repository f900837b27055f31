namespace Ublk.Server.Interop;

/// <summary>Control command numbers (<c>_IOC_NR</c> of <c>UBLK_U_CMD_*</c>; the legacy cmd_op equals the number).</summary>
internal enum UblkCtrlCmd : byte
{
    GetQueueAffinity = 0x01,
    GetDevInfo = 0x02,
    AddDev = 0x04,
    DelDev = 0x05,
    StartDev = 0x06,
    StopDev = 0x07,
    SetParams = 0x08,
    GetParams = 0x09,
    StartUserRecovery = 0x10,
    EndUserRecovery = 0x11,
    GetDevInfo2 = 0x12,
    GetFeatures = 0x13,
    DelDevAsync = 0x14,
}

/// <summary>I/O command numbers (<c>_IOC_NR</c> of <c>UBLK_U_IO_*</c>).</summary>
internal enum UblkIoCmd : byte
{
    FetchReq = 0x20,
    CommitAndFetchReq = 0x21,
    NeedGetData = 0x22,
}

/// <summary><c>UBLK_F_*</c> feature flags (§1.9).</summary>
[Flags]
public enum UblkFeatures : ulong
{
    None = 0,
    SupportZeroCopy = 1ul << 0,
    UringCmdCompInTask = 1ul << 1,
    NeedGetData = 1ul << 2,
    UserRecovery = 1ul << 3,
    UserRecoveryReissue = 1ul << 4,
    UnprivilegedDev = 1ul << 5,
    CmdIoctlEncode = 1ul << 6,
    UserCopy = 1ul << 7,
    Zoned = 1ul << 8,
    UserRecoveryFailIo = 1ul << 9,
}

/// <summary><c>UBLK_ATTR_*</c> bits of <see cref="UblkParamBasic.Attrs"/>.</summary>
[Flags]
internal enum UblkAttrs : uint
{
    None = 0,
    ReadOnly = 1u << 0,
    Rotational = 1u << 1,

    /// <summary>A write-back cache: the kernel sends FLUSH.</summary>
    VolatileCache = 1u << 2,

    /// <summary>With <see cref="VolatileCache"/>: REQ_FUA reaches the server as <see cref="UblkIoFlags.Fua"/>.</summary>
    Fua = 1u << 3,
}

/// <summary><c>UBLK_PARAM_TYPE_*</c> bits of <see cref="UblkParams.Types"/>.</summary>
[Flags]
internal enum UblkParamTypes : uint
{
    None = 0,
    Basic = 1u << 0,
    Discard = 1u << 1,
    Devt = 1u << 2,
    Zoned = 1u << 3,
}

/// <summary><c>UBLK_IO_OP_*</c>: bits 0–7 of <see cref="UblksrvIoDesc.OpFlags"/>.</summary>
public enum UblkIoOp : byte
{
    Read = 0,
    Write = 1,
    Flush = 2,
    Discard = 3,
    WriteSame = 4,
    WriteZeroes = 5,
    ZoneOpen = 10,
    ZoneClose = 11,
    ZoneFinish = 12,
    ZoneAppend = 13,
    ZoneResetAll = 14,
    ZoneReset = 15,
    ReportZones = 18,
}

/// <summary><c>UBLK_IO_F_*</c>: bits 8–31 of <see cref="UblksrvIoDesc.OpFlags"/>, already in position.</summary>
[Flags]
internal enum UblkIoFlags : uint
{
    None = 0,
    FailfastDev = 1u << 8,
    FailfastTransport = 1u << 9,
    FailfastDriver = 1u << 10,
    Meta = 1u << 11,
    Fua = 1u << 13,
    NoUnmap = 1u << 15,
    Swap = 1u << 16,
}

/// <summary><c>UBLK_S_DEV_*</c>: <see cref="UblksrvCtrlDevInfo.State"/>.</summary>
public enum UblkDevState : ushort
{
    Dead = 0,
    Live = 1,
    Quiesced = 2,
    FailIo = 3,
}

/// <summary>Other ublk numbers (docs/ublk-protocol.md §1–2).</summary>
public static class UblkConstants
{
    public const string ControlDevicePath = "/dev/ublk-control";
    public const string CharDeviceClassPath = "/sys/class/ublk-char";

    /// <summary>dev_id meaning "allocate one" in ADD_DEV.</summary>
    public const uint AutoDeviceId = uint.MaxValue;

    /// <summary>queue_id required by ADD_DEV.</summary>
    public const ushort NoQueue = 0xFFFF;

    public const int MaxQueueDepth = 4096;
    public const int MaxNrQueues = 4096;

    /// <summary>Size in bytes of the GET_FEATURES payload (must be exactly 8).</summary>
    public const int FeaturesLength = 8;

    // CQE results of I/O commands.
    public const int IoResOk = 0;
    public const int IoResNeedGetData = 1;
    public const int IoResAbort = -(int)Errno.ENODEV;

    /// <summary>Offset of queue 0's descriptor array in /dev/ublkcN.</summary>
    public const long CmdBufOffset = 0;

    /// <summary>Distance between two queues' descriptor arrays: round_up(4096 × 24, page) = 98,304 on 4 KiB pages.</summary>
    public const long MaxCmdBufSize = 98304;

    /// <summary>sizeof(struct ublksrv_io_desc).</summary>
    public const int IoDescSize = 24;

    public const int SectorShift = 9;

    public static string CharDevicePath(int devId) => $"/dev/ublkc{devId}";

    public static string BlockDevicePath(int devId) => $"/dev/ublkb{devId}";
}
