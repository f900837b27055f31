using System.CommandLine;
using S3Block.Cache.Journal;
using S3Block.ObjectStore;
using S3Block.Ublk.Configuration;

namespace S3Block.Ublk.Cli;

/// <summary>
/// Runs a command body with the configuration built from the common options, and turns failures into one line on
/// stderr and an exit code, so a wrong setting is named before anything touches the store or the kernel.
/// </summary>
internal static class CommandRunner
{
    public static async Task<int> RunAsync(ParseResult parse, Func<CommandContext, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        StoreOptions? store = null;
        try
        {
            var configuration = AppConfiguration.Build(parse.GetValue(CommonOptions.Config), parse.GetValue(CommonOptions.Set) ?? []);
            var context = new CommandContext(configuration, Console.Out);
            store = TryBindStore(context);
            return await body(context, cancellationToken);
        }
        catch (ConfigurationProblemException e)
        {
            await Console.Error.WriteLineAsync($"s3block: configuration error: {OneLine(e.Message)}");
            return ExitCodes.ConfigurationError;
        }
        catch (ObjectStoreException e) when (store is not null && StoreErrorExplainer.Explain(e, store) is { } line)
        {
            await Console.Error.WriteLineAsync($"s3block: configuration error: {OneLine(line)}");
            return ExitCodes.ConfigurationError;
        }
        catch (ObjectStoreException e)
        {
            await Console.Error.WriteLineAsync($"s3block: store error: {OneLine(e.Message)}");
            return ExitCodes.Failure;
        }
        catch (global::Ublk.Server.Device.UblkDeviceException e)
        {
            await Console.Error.WriteLineAsync($"s3block: {OneLine(e.Message)}");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is S3Block.Volume.VolumeException or JournalSyncFailedException or JournalCorruptedException
                                         or JournalCapacityException or JournalInUseException or JournalStaleWriterException)
        {
            await Console.Error.WriteLineAsync($"s3block: {OneLine(e.Message)}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("s3block: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"s3block: {OneLine(e.Message)}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>Errors are one line, so journald and scripts see the whole reason.</summary>
    internal static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static StoreOptions? TryBindStore(CommandContext context)
    {
        try
        {
            return context.StoreOptions();
        }
        catch (ConfigurationProblemException)
        {
            return null; // reported when the command asks for it
        }
    }
}
