using System.CommandLine;
using S3Block.ObjectStore;
using S3Block.Ublk.Configuration;
using S3Block.Volume;

namespace S3Block.Ublk.Cli;

/// <summary><c>s3block create NAME --size SIZE</c>: writes a new volume's descriptor to the store.</summary>
internal static class CreateCommand
{
    private static readonly Argument<string> Name = new("name") { Description = "The volume's name: 1-63 characters of a-z, 0-9, '-', '_'." };

    private static readonly Option<string> Size = new("--size", "-s") { Description = "The volume's size, e.g. 10GiB.", Required = true };

    private static readonly Option<string> ChunkSize = new("--chunk-size")
    {
        Description = "The size of the objects the disk is cut into: a power of two from 64KiB to 32MiB.",
        DefaultValueFactory = _ => ByteSize.Format(VolumeDescriptor.DefaultChunkSize),
    };

    private static readonly Option<int> BlockSize = new("--block-size")
    {
        Description = "The logical block size the device advertises: 512 or 4096.",
        DefaultValueFactory = _ => 4096,
    };

    public static Command Create()
    {
        var command = new Command("create", """
            Create a volume in the configured store. Nothing is uploaded but a small descriptor: a new volume reads as
            zeros and costs nothing until written.

            Examples:
              s3block create vol1 --size 100GiB
              s3block create vol1 --size 1TiB --chunk-size 8MiB --set Store:Kind=s3 --set Store:S3:Bucket=my-bucket
            """)
        {
            Name, Size, ChunkSize, BlockSize,
        };
        CommonOptions.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, (context, token) => RunAsync(parse, context, token), ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CommandContext context, CancellationToken cancellationToken)
    {
        var name = parse.GetValue(Name)!;
        if (!VolumeKeys.IsValidName(name))
        {
            throw new ConfigurationProblemException($"name: '{name}' is not a valid volume name (1-63 characters: a-z, 0-9, '-', '_', starting with a letter or digit)");
        }

        var size = ByteSize.Parse(parse.GetValue(Size)!, "--size");
        var chunk = ByteSize.Parse(parse.GetValue(ChunkSize)!, "--chunk-size");
        var descriptor = new VolumeDescriptor
        {
            FormatVersion = VolumeDescriptor.CurrentFormatVersion,
            VolumeId = Guid.NewGuid(),
            Name = name,
            SizeBytes = size,
            ChunkSizeBytes = chunk is > int.MaxValue ? int.MaxValue : (int)chunk,
            LogicalBlockSize = parse.GetValue(BlockSize),
            CreatedAt = DateTimeOffset.UtcNow,
        };
        var problem = descriptor.Validate().FirstOrDefault();
        if (problem is not null)
        {
            throw new ConfigurationProblemException($"create: {problem}");
        }

        using var store = ObjectStoreFactory.Create(context.StoreOptions(), RetryPolicy.Default);
        await VolumeCatalog.CreateAsync(store, descriptor, cancellationToken);
        context.Out.WriteLine($"created volume {name}: {ByteSize.Format(size)} in {descriptor.ChunkCount} chunks of {ByteSize.Format(chunk)}, " +
                              $"block size {descriptor.LogicalBlockSize}, id {descriptor.VolumeId}, in {store.Location}");
        return ExitCodes.Success;
    }
}
