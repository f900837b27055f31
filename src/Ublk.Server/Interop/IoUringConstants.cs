namespace Ublk.Server.Interop;

/// <summary><c>IORING_SETUP_*</c> flags for io_uring_setup.</summary>
[Flags]
internal enum IoUringSetupFlags : uint
{
    None = 0,
    IoPoll = 1u << 0,
    SqPoll = 1u << 1,
    SqAff = 1u << 2,
    CqSize = 1u << 3,
    Clamp = 1u << 4,
    AttachWq = 1u << 5,
    RDisabled = 1u << 6,
    SubmitAll = 1u << 7,
    CoopTaskrun = 1u << 8,
    TaskrunFlag = 1u << 9,
    Sqe128 = 1u << 10,
    Cqe32 = 1u << 11,
    SingleIssuer = 1u << 12,
    DeferTaskrun = 1u << 13,
}

/// <summary><c>IORING_FEAT_*</c> bits the kernel reports in <see cref="IoUringParams.Features"/>.</summary>
[Flags]
internal enum IoUringFeatures : uint
{
    None = 0,
    SingleMmap = 1u << 0,
    NoDrop = 1u << 1,
    SubmitStable = 1u << 2,
    RwCurPos = 1u << 3,
    CurPersonality = 1u << 4,
    FastPoll = 1u << 5,
    Poll32Bits = 1u << 6,
    SqPollNonFixed = 1u << 7,
    ExtArg = 1u << 8,
    NativeWorkers = 1u << 9,
    RsrcTags = 1u << 10,
    CqeSkip = 1u << 11,
    LinkedFile = 1u << 12,
}

/// <summary>The <c>IORING_OP_*</c> opcodes this project uses.</summary>
internal enum IoUringOp : byte
{
    Nop = 0,
    PollAdd = 6,
    Read = 22,
    Write = 23,
    MsgRing = 40,
    UringCmd = 46,
}

/// <summary>io_uring numbers that are not enums: mmap offsets, enter flags, ring flags.</summary>
internal static class IoUringConstants
{
    // mmap offsets of the three regions.
    public const long OffSqRing = 0;
    public const long OffCqRing = 0x8000000;
    public const long OffSqes = 0x10000000;

    // io_uring_enter flags.
    public const uint EnterGetEvents = 1u << 0;
    public const uint EnterSqWakeup = 1u << 1;

    // Bits of the SQ ring's shared "flags" word.
    public const uint SqNeedWakeup = 1u << 0;
    public const uint SqCqOverflow = 1u << 1;
    public const uint SqTaskrun = 1u << 2;

    // SQE flags.
    public const byte SqeFixedFile = 1 << 0;
}
