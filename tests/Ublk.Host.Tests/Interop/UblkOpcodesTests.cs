using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Interop;

/// <summary>cmd_op values against the table in docs/ublk-protocol.md §1.5 and §2.4.</summary>
public sealed class UblkOpcodesTests
{
    [Theory]
    [InlineData((byte)UblkCtrlCmd.GetQueueAffinity, 0x80207501u)]
    [InlineData((byte)UblkCtrlCmd.GetDevInfo, 0x80207502u)]
    [InlineData((byte)UblkCtrlCmd.AddDev, 0xC0207504u)]
    [InlineData((byte)UblkCtrlCmd.DelDev, 0xC0207505u)]
    [InlineData((byte)UblkCtrlCmd.StartDev, 0xC0207506u)]
    [InlineData((byte)UblkCtrlCmd.StopDev, 0xC0207507u)]
    [InlineData((byte)UblkCtrlCmd.SetParams, 0xC0207508u)]
    [InlineData((byte)UblkCtrlCmd.GetParams, 0x80207509u)]
    [InlineData((byte)UblkCtrlCmd.StartUserRecovery, 0xC0207510u)]
    [InlineData((byte)UblkCtrlCmd.EndUserRecovery, 0xC0207511u)]
    [InlineData((byte)UblkCtrlCmd.GetDevInfo2, 0x80207512u)]
    [InlineData((byte)UblkCtrlCmd.GetFeatures, 0x80207513u)]
    [InlineData((byte)UblkCtrlCmd.DelDevAsync, 0x80207514u)]
    public void ControlCommandsUseTheIoctlEncoding(byte command, uint expected) =>
        Assert.Equal(expected, UblkOpcodes.Control((UblkCtrlCmd)command, ioctlEncoding: true));

    [Theory]
    [InlineData((byte)UblkCtrlCmd.GetDevInfo, 0x02u)]
    [InlineData((byte)UblkCtrlCmd.AddDev, 0x04u)]
    [InlineData((byte)UblkCtrlCmd.DelDev, 0x05u)]
    [InlineData((byte)UblkCtrlCmd.StartDev, 0x06u)]
    [InlineData((byte)UblkCtrlCmd.StopDev, 0x07u)]
    [InlineData((byte)UblkCtrlCmd.SetParams, 0x08u)]
    [InlineData((byte)UblkCtrlCmd.StartUserRecovery, 0x10u)]
    [InlineData((byte)UblkCtrlCmd.EndUserRecovery, 0x11u)]
    public void LegacyControlCommandsAreTheBareNumber(byte command, uint expected) =>
        Assert.Equal(expected, UblkOpcodes.Control((UblkCtrlCmd)command, ioctlEncoding: false));

    [Theory]
    [InlineData((byte)UblkIoCmd.FetchReq, 0xC0107520u, 0x20u)]
    [InlineData((byte)UblkIoCmd.CommitAndFetchReq, 0xC0107521u, 0x21u)]
    [InlineData((byte)UblkIoCmd.NeedGetData, 0xC0107522u, 0x22u)]
    public void IoCommands(byte command, uint ioctl, uint legacy)
    {
        Assert.Equal(ioctl, UblkOpcodes.Io((UblkIoCmd)command, ioctlEncoding: true));
        Assert.Equal(legacy, UblkOpcodes.Io((UblkIoCmd)command, ioctlEncoding: false));
    }

    [Fact]
    public void ConstantsMatchTheProtocolNotes()
    {
        Assert.Equal(98304, UblkConstants.MaxCmdBufSize);
        Assert.Equal(-19, UblkConstants.IoResAbort);
        Assert.Equal(0xFFFFFFFFu, UblkConstants.AutoDeviceId);
        Assert.Equal(0x400u, (uint)IoUringSetupFlags.Sqe128);
        Assert.Equal(0x100u, (uint)IoUringSetupFlags.CoopTaskrun);
        Assert.Equal(0x1000u, (uint)IoUringSetupFlags.SingleIssuer);
        Assert.Equal(0x2000u, (uint)IoUringSetupFlags.DeferTaskrun);
        Assert.Equal(46, (int)IoUringOp.UringCmd);
        Assert.Equal(22, (int)IoUringOp.Read);
        Assert.Equal(0x8000000, IoUringConstants.OffCqRing);
        Assert.Equal(0x10000000, IoUringConstants.OffSqes);
        Assert.Equal(1ul << 6, (ulong)UblkFeatures.CmdIoctlEncode);
        Assert.Equal(1ul << 3, (ulong)UblkFeatures.UserRecovery);
        Assert.Equal(1u << 13, (uint)UblkIoFlags.Fua);
        Assert.Equal(57, Libc.PR_SET_IO_FLUSHER);
    }
}
