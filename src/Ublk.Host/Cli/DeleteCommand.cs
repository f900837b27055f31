using System.CommandLine;
using S3Block.Ublk.Configuration;
using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Cli;

/// <summary><c>s3block delete ID</c>: removes a ublk device a crashed daemon left behind.</summary>
internal static class DeleteCommand
{
    private static readonly Argument<int> Id = new("id") { Description = "The device number N of /dev/ublkbN." };

    private static readonly Option<bool> Force = new("--force") { Description = "Delete even while the device is in use (mounted, swap, device-mapper on top...): their I/O then fails." };

    public static Command Create()
    {
        var command = new Command("delete", """
            Delete a ublk device left behind by a daemon that crashed and will not be restarted. Data the daemon had
            journaled but not uploaded stays in its journal and is uploaded by the next 'run' of the volume on this host.
            Refuses while the kernel says the device is in use (a mounted filesystem or partition, swap, device-mapper or
            md on top, an exclusive open) and names the user, unless --force.

            Examples:
              sudo s3block delete 0
            """)
        {
            Id, Force,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, (context, _) => Task.FromResult(Run(parse, context)), ct));
        return command;
    }

    private static int Run(ParseResult parse, CommandContext context)
    {
        var id = parse.GetValue(Id);
        if (id < 0)
        {
            throw new ConfigurationProblemException($"id: {id} is not a device number");
        }

        BlockDevices.RequireUblkDriver();
        var device = UblkConstants.BlockDevicePath(id);
        var users = BlockDeviceUsers.Find(device);
        if (users.Count > 0 && !parse.GetValue(Force))
        {
            throw new UblkDeviceException(
                $"{device} is in use: {string.Join("; ", users)}. It is left attached for its daemon to recover " +
                "(remove those users first, or use --force, which fails their I/O)");
        }

        if (!UblkDevice.DeleteExisting(id))
        {
            throw new UblkDeviceException($"there is no ublk device {id}");
        }

        context.Out.WriteLine($"deleted ublk device {id}");
        return ExitCodes.Success;
    }
}
