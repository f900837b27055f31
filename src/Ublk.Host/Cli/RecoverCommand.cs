using System.CommandLine;

namespace S3Block.Ublk.Cli;

/// <summary><c>s3block recover VOLUME</c>: <c>run</c>, but only to re-attach the device a crashed daemon left.</summary>
internal static class RecoverCommand
{
    public static Command Create() => RunCommand.Create(
        "recover",
        """
        Re-attach to the ublk device a crashed daemon of this volume left on this host (ublk user recovery) and serve it
        again, without unmounting the filesystem on it. Fails if there is no such device ('run' creates one instead).

        Examples:
          sudo s3block recover vol1
          sudo s3block recover --config /etc/s3block/vol1.json
        """,
        recoverOnly: true);
}
