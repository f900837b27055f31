using System.Diagnostics;

namespace S3Block.Ublk.Tests.Systemd;

/// <summary>
/// Runs systemd-analyze on a temporary copy of the shipped unit. The copy's ExecStart points at a stub executable
/// (verify rejects a missing /usr/lib/s3block/s3block), everything else is byte-for-byte the shipped file. The copy is
/// verified as an instance (s3block@vol1.service) so that %i specifiers are expanded as they will be.
/// </summary>
internal sealed class SystemdAnalyze : IDisposable
{
    public const string ShippedExecutable = "/usr/lib/s3block/s3block";

    private readonly string _folder;

    /// <param name="edit">Changes the unit text before it is written (tests inject typos with it).</param>
    public SystemdAnalyze(Func<string, string>? edit = null)
    {
        Tool = SystemdTools.Require("systemd-analyze");
        _folder = Directory.CreateTempSubdirectory("s3block-unit-").FullName;

        string stub = Path.Combine(_folder, "s3block");
        File.WriteAllText(stub, "#!/bin/sh\nexit 0\n");
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("systemd units are tested on Linux only");
        }

        File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        string text = File.ReadAllText(DeployFiles.ServiceUnit);
        string execStart = $"\nExecStart={ShippedExecutable} ";
        Assert.True(text.Split(execStart).Length == 2, $"the unit must have exactly one line starting with '{execStart.Trim()}'");
        text = text.Replace(execStart, $"\nExecStart={stub} ", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_folder, "s3block@.service"), (edit ?? (t => t))(text));
        InstancePath = Path.Combine(_folder, "s3block@vol1.service");
    }

    public string Tool { get; }

    /// <summary>The instance to analyze; only the template file exists, as in /etc/systemd/system.</summary>
    public string InstancePath { get; }

    /// <summary>
    /// <c>systemd-analyze verify</c>. It exits 0 even for unknown keys or unparsable values (it only warns), so every
    /// line that mentions our unit counts as a problem too.
    /// </summary>
    public async Task<(int ExitCode, IReadOnlyList<string> Problems, string Output)> VerifyAsync()
    {
        (int exitCode, string output) = await RunAsync("verify", "--man=no", InstancePath);
        string[] problems = [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => line.Contains("s3block@", StringComparison.Ordinal) || line.Contains(_folder, StringComparison.Ordinal))];
        return (exitCode, problems, output);
    }

    /// <summary><c>systemd-analyze security --offline</c> with a threshold in tenths (50 = exposure 5.0): exit code 0
    /// when the unit's exposure is at or below it.</summary>
    public Task<(int ExitCode, string Output)> SecurityAsync(int thresholdTenths) =>
        RunAsync("security", "--offline=yes", $"--threshold={thresholdTenths}", "--no-pager", InstancePath);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _folder,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SYSTEMD_COLORS"] = "0";
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
