using System.CommandLine;
using System.Diagnostics;
using S3Block.ObjectStore;

namespace S3Block.Ublk.Cli;

/// <summary>
/// <c>s3block store-check</c>: proves the configured store works end to end (write, read whole and by range, list,
/// conditional create, delete) and explains configuration problems in one line.
/// </summary>
internal static class StoreCheckCommand
{
    public static Command Create()
    {
        var command = new Command("store-check", """
            Check that the configured object store works: writes, reads (whole and by range), lists, races a
            create-only write and deletes a test object under 'store-check/'.

            Examples:
              s3block store-check                                  # the embedded local store (data/store)
              s3block store-check --set Store:Kind=s3 --set Store:S3:Bucket=my-bucket
              S3BLOCK_Store__Kind=s3 S3BLOCK_Store__S3__ServiceUrl=http://localhost:4566 \
                S3BLOCK_Store__S3__Bucket=test s3block store-check
            """);
        CommonOptions.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, RunAsync, ct));
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var options = context.StoreOptions();
        using var store = ObjectStoreFactory.Create(options, RetryPolicy.Default);
        var key = $"store-check/{Guid.NewGuid():N}";
        var data = new byte[256 * 1024];
        Random.Shared.NextBytes(data);
        var clock = Stopwatch.StartNew();

        var etag = await store.PutAsync(key, data, PutCondition.CreateOnly, cancellationToken);
        Step(context, $"put {data.Length} bytes (create-only) -> etag {etag}", clock);
        try
        {
            var whole = await store.GetAsync(key, null, cancellationToken);
            Verify(whole.Data.AsSpan().SequenceEqual(data), "whole-object read returned different bytes");
            var range = await store.GetAsync(key, new ByteRange(1000, 4096), cancellationToken);
            Verify(range.Data.AsSpan().SequenceEqual(data.AsSpan(1000, 4096)), "ranged read returned different bytes");
            Step(context, "read back whole and by range: bytes match", clock);

            var listed = await store.ListAllAsync("store-check/", cancellationToken).AnyAsync(o => o.Key == key, cancellationToken);
            Verify(listed, "the object is missing from the listing");
            Step(context, "listed", clock);

            try
            {
                await store.PutAsync(key, data, PutCondition.CreateOnly, cancellationToken);
                Verify(false, "a second create-only write of the same key succeeded (conditional writes unsupported?)");
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
            {
                Step(context, "second create-only write refused (conditional writes work)", clock);
            }
        }
        finally
        {
            // Only reached once the object exists, so cleanup cannot mask the first failure.
            await store.DeleteAsync(key, CancellationToken.None);
        }

        Step(context, "deleted", clock);
        context.Out.WriteLine($"store-check: OK: {store.Location}");
        return ExitCodes.Success;
    }

    private static void Step(CommandContext context, string what, Stopwatch clock) =>
        context.Out.WriteLine($"  {clock.Elapsed.TotalMilliseconds,8:F1} ms  {what}");

    private static void Verify(bool condition, string failure)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"store-check failed: {failure}");
        }
    }
}
