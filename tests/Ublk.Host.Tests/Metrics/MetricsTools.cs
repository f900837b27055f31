using System.Diagnostics;

namespace S3Block.Ublk.Tests.Metrics;

/// <summary>The external tools the metrics tests use (promtool, prometheus) and the repository's files.</summary>
internal static class MetricsTools
{
    public const string InstallScript = "tests/metrics/install.sh";

    private static readonly Lazy<string> LazyRepoRoot = new(FindRepoRoot);

    public static string RepoRoot => LazyRepoRoot.Value;

    public static string AlertRules => Path.Combine(RepoRoot, "deploy", "prometheus", "alerts.yml");

    public static string Dashboard => Path.Combine(RepoRoot, "deploy", "grafana", "s3block.json");

    /// <summary>The tool's full path; fails the test (never skips) when it is not installed.</summary>
    public static string Require(string tool)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                     .Concat(["/usr/bin", "/usr/local/bin", "/usr/sbin"]))
        {
            var path = Path.Combine(folder, tool);
            if (File.Exists(path))
            {
                return path;
            }
        }

        Assert.Fail($"'{tool}' is not installed: run {InstallScript} (it installs Debian's 'prometheus' package, which ships prometheus and promtool)");
        return "";
    }

    /// <summary>Runs a tool to completion (bounded) and returns its exit code and combined output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string tool, IEnumerable<string> arguments, string? standardInput = null)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{tool} {string.Join(' ', start.ArgumentList)} did not finish within 60 s");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FindRepoRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "S3Block.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no S3Block.sln above {AppContext.BaseDirectory}");
    }
}
