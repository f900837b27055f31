using System.Diagnostics;

namespace S3Block.TestKit;

/// <summary>Runs the built <c>s3block</c> executable as a user would, and captures what it prints.</summary>
/// <remarks>The test command builds the whole solution first; this finds the newest build of the host.</remarks>
public static class S3BlockCli
{
    /// <summary>The outcome of one run.</summary>
    public sealed record Result(int ExitCode, string Out, string Error)
    {
        /// <summary>stderr's non-empty lines.</summary>
        public IReadOnlyList<string> ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public static async Task<Result> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        start.ArgumentList.Add(HostAssembly());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Keep the caller's S3BLOCK_ settings out unless the test passes them explicitly.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("S3BLOCK_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"s3block {string.Join(' ', arguments)} did not finish in time");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// The newest <c>s3block.dll</c> of a plain build (<c>src/Ublk.Host/bin/CONFIGURATION/net10.0</c>). A publish's
    /// own build (<c>net10.0/linux-x64</c>) is left out: it is the input of the native compile, not meant to run.
    /// </summary>
    public static string HostAssembly()
    {
        var bin = Path.Combine(RepositoryRoot(), "src", "Ublk.Host", "bin");
        var candidates = Directory.Exists(bin)
            ? Directory.GetFiles(bin, "s3block.dll", SearchOption.AllDirectories)
                .Where(path => Path.GetFileName(Path.GetDirectoryName(path)) == "net10.0")
                .ToArray()
            : [];
        return candidates.OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
               ?? throw new FileNotFoundException($"s3block.dll not found under {bin}: build the solution first (scripts/test.sh does)");
    }

    /// <summary>The folder that holds <c>S3Block.sln</c>.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "S3Block.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("S3Block.sln not found above " + AppContext.BaseDirectory);
    }
}
