using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace S3Block.Tests.Vm;

/// <summary>How to boot the guest for one <see cref="GuestVm"/> run (maps onto <c>tests/vm/run.sh</c> options).</summary>
public sealed record GuestVmOptions
{
    /// <summary>Guest memory in MiB (run.sh --mem).</summary>
    public int MemoryMiB { get; init; } = 4096;

    /// <summary>Guest CPUs (run.sh --smp).</summary>
    public int Cpus { get; init; } = 2;

    /// <summary>
    /// A host folder the guest may write: in the guest at <c>/run/share</c> (<c>$S3BLOCK_VM_SHARE</c>) and at
    /// the same absolute path as on the host (run.sh --share).
    /// </summary>
    public string? ShareDirectory { get; init; }

    /// <summary>Raw image files attached as virtio disks, /dev/vda, /dev/vdb, ... in this order (run.sh --disk; cache=none).</summary>
    public IReadOnlyList<string> Disks { get; init; } = [];

    /// <summary>
    /// Raw image files attached after <see cref="Disks"/>, whose host-side durability does not matter, such as a log of
    /// the guest's writes (run.sh --scratch-disk; cache=unsafe).
    /// </summary>
    public IReadOnlyList<string> ScratchDisks { get; init; } = [];

    /// <summary>Extra environment variables for the guest command (run.sh --env).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Host folder run.sh starts in; the guest command runs in the same path. Default: the repository root.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Copy the guest kernel log, taken after the command ended, to this host file (run.sh --dmesg).</summary>
    public string? DmesgFile { get; init; }

    /// <summary>Extra kernel command line (run.sh --kernel-args).</summary>
    public string? KernelArguments { get; init; }

    /// <summary>Boot systemd as PID 1 on a writable overlay of the host's / and run the command as a unit (run.sh --systemd).</summary>
    public bool Systemd { get; init; }

    /// <summary>
    /// With <see cref="Systemd"/>: an ext4 image that holds the guest's writable root layer, so that a second run with the
    /// same image boots the machine the first one powered off, a reboot (run.sh --state-disk; a missing file is created).
    /// </summary>
    public string? StateDisk { get; init; }

    /// <summary>Also capture the boot console and timings in <see cref="GuestVmResult.HarnessLog"/> (run.sh --verbose).</summary>
    public bool Verbose { get; init; }

    /// <summary>Called for every line of guest output as it arrives (e.g. to stream into the test output).</summary>
    public Action<string>? OnOutputLine { get; init; }
}

/// <summary>The outcome of one guest run.</summary>
/// <param name="ExitCode">The guest command's exit status, or 124 (timeout) / 125 (the VM failed).</param>
/// <param name="Output">What the guest command wrote to stdout and stderr (both go to the serial console).</param>
/// <param name="HarnessLog">run.sh's own messages (stderr): failures, boot console on failure, timings if verbose.</param>
/// <param name="Elapsed">Wall time of the whole run, boot included.</param>
public sealed record GuestVmResult(int ExitCode, string Output, string HarnessLog, TimeSpan Elapsed)
{
    /// <summary>run.sh's status when the VM hit its timeout and was killed.</summary>
    public const int TimeoutExitCode = 124;

    /// <summary>run.sh's status when the VM itself failed: setup missing, boot failure, kernel panic, qemu error.</summary>
    public const int VmFailedExitCode = 125;

    public bool TimedOut => ExitCode == TimeoutExitCode;

    /// <summary>Everything needed to understand a failed assertion, for test messages.</summary>
    public string Describe() =>
        $"exit code {ExitCode} after {Elapsed.TotalSeconds:F1} s\n--- guest output ---\n{Output}\n--- run.sh ---\n{HarnessLog}";
}

/// <summary>
/// Runs commands inside the ublk test VM through <c>tests/vm/run.sh</c>: Debian's 6.12 kernel under qemu (TCG),
/// the host's / shared read-only, the command run as root in the same working directory as on the host.
/// The machines' own kernel has no ublk, so every test that needs the real driver goes through here.
/// </summary>
/// <remarks>
/// Runs are serialized within a process by default (TCG on two cores gains nothing from two VMs at once);
/// set <c>S3BLOCK_VM_MAX_PARALLEL</c> to allow more. Missing prerequisites make <see cref="RunAsync"/> throw
/// with the fix (<c>tests/vm/setup.sh</c>), so tests fail loudly instead of skipping.
/// </remarks>
public static class GuestVm
{
    /// <summary>What to do when the VM cannot be used.</summary>
    public const string SetupHint = "run tests/vm/setup.sh (as root) to install qemu and fetch the 6.12 kernel";

    // Time run.sh gets beyond its own --timeout to kill qemu and report, before we kill it ourselves.
    private static readonly TimeSpan HarnessGrace = TimeSpan.FromSeconds(60);

    private static readonly Lazy<string> LazyRepoRoot = new(FindRepoRoot);
    private static readonly SemaphoreSlim Gate = new(MaxParallelRuns());
    private static readonly SemaphoreSlim CheckLock = new(1);
    private static bool s_prerequisitesOk;

    /// <summary>The repository root (the folder holding S3Block.sln or .git).</summary>
    public static string RepoRoot => LazyRepoRoot.Value;

    /// <summary>Absolute path of <c>tests/vm/run.sh</c>.</summary>
    public static string RunScript => Path.Combine(RepoRoot, "tests", "vm", "run.sh");

    /// <summary>Runs a bash script (<c>bash -c script</c>) in the guest.</summary>
    /// <param name="script">Bash source; add <c>set -euo pipefail</c> yourself if you want it.</param>
    /// <param name="timeout">Whole-run limit, boot included (a boot costs 5-15 s under TCG).</param>
    /// <param name="options">Guest size, shares, environment; defaults if null.</param>
    /// <param name="cancellationToken">Stops the VM (run.sh kills qemu) and throws.</param>
    public static Task<GuestVmResult> RunAsync(
        string script, TimeSpan timeout, GuestVmOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        return RunCommandAsync(["bash", "-c", script], timeout, options, cancellationToken);
    }

    /// <summary>Runs an argument vector (no shell) in the guest.</summary>
    public static async Task<GuestVmResult> RunCommandAsync(
        IReadOnlyList<string> command, TimeSpan timeout, GuestVmOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Count == 0)
        {
            throw new ArgumentException("The guest command is empty.", nameof(command));
        }

        options ??= new GuestVmOptions();
        await EnsurePrerequisitesAsync(cancellationToken);

        await Gate.WaitAsync(cancellationToken);
        try
        {
            var args = new List<string>
            {
                RunScript,
                "--timeout", Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture),
                "--mem", options.MemoryMiB.ToString(CultureInfo.InvariantCulture),
                "--smp", options.Cpus.ToString(CultureInfo.InvariantCulture),
            };
            if (options.ShareDirectory is { } share)
            {
                args.AddRange(["--share", Path.GetFullPath(share)]);
            }

            foreach (var disk in options.Disks)
            {
                args.AddRange(["--disk", Path.GetFullPath(disk)]);
            }

            foreach (var disk in options.ScratchDisks)
            {
                args.AddRange(["--scratch-disk", Path.GetFullPath(disk)]);
            }

            foreach (var (name, value) in options.Environment)
            {
                args.AddRange(["--env", $"{name}={value}"]);
            }

            if (options.DmesgFile is { } dmesg)
            {
                args.AddRange(["--dmesg", Path.GetFullPath(dmesg)]);
            }

            if (options.KernelArguments is { } kernelArguments)
            {
                args.AddRange(["--kernel-args", kernelArguments]);
            }

            if (options.Systemd)
            {
                args.Add("--systemd");
            }

            if (options.StateDisk is { } stateDisk)
            {
                args.AddRange(["--state-disk", Path.GetFullPath(stateDisk)]);
            }

            if (options.Verbose)
            {
                args.Add("--verbose");
            }

            args.Add("--");
            args.AddRange(command);

            return await RunProcessAsync(
                args, options.WorkingDirectory ?? RepoRoot, timeout + HarnessGrace, options.OnOutputLine,
                cancellationToken);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> saying to run <c>tests/vm/setup.sh</c> when the VM cannot
    /// boot here (no qemu, no kernel, stale cache). Checked once per process once it succeeds.
    /// </summary>
    public static async Task EnsurePrerequisitesAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref s_prerequisitesOk))
        {
            return;
        }

        await CheckLock.WaitAsync(cancellationToken);
        try
        {
            if (s_prerequisitesOk)
            {
                return;
            }

            if (!File.Exists(RunScript))
            {
                throw new InvalidOperationException($"VM harness not found at {RunScript}.");
            }

            var check = await RunProcessAsync(
                [RunScript, "--check"], RepoRoot, TimeSpan.FromSeconds(60), null, cancellationToken);
            if (check.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"The ublk test VM is not usable on this machine; {SetupHint}.\n{check.HarnessLog}{check.Output}");
            }

            Volatile.Write(ref s_prerequisitesOk, true);
        }
        finally
        {
            CheckLock.Release();
        }
    }

    private static async Task<GuestVmResult> RunProcessAsync(
        IReadOnlyList<string> args, string workingDirectory, TimeSpan hardLimit, Action<string>? onOutputLine,
        CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo("bash")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        var log = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.Append(e.Data).Append('\n');
            }

            onOutputLine?.Invoke(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (log)
                {
                    log.Append(e.Data).Append('\n');
                }
            }
        };

        if (!process.Start())
        {
            throw new InvalidOperationException("Could not start bash for tests/vm/run.sh.");
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(hardLimit);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            await StopAsync(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new TimeoutException(
                $"tests/vm/run.sh did not finish within {hardLimit.TotalSeconds:F0} s and was killed.\n{output}\n{log}");
        }

        // The parameterless wait flushes the asynchronous output readers.
        await process.WaitForExitAsync(CancellationToken.None);
        stopwatch.Stop();
        string outputText, logText;
        lock (output)
        {
            outputText = output.ToString();
        }

        lock (log)
        {
            logText = log.ToString();
        }

        return new GuestVmResult(process.ExitCode, outputText, logText, stopwatch.Elapsed);
    }

    private static async Task StopAsync(Process process)
    {
        // SIGTERM first: run.sh's trap stops qemu and removes its per-run folder. SIGKILL the tree if it lingers.
        try
        {
            using var term = Process.Start(new ProcessStartInfo("kill")
            {
                ArgumentList = { "-TERM", process.Id.ToString(CultureInfo.InvariantCulture) },
                UseShellExecute = false,
            });
            if (term is not null)
            {
                await term.WaitForExitAsync(CancellationToken.None);
            }

            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(grace.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException
                                     or System.ComponentModel.Win32Exception)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static int MaxParallelRuns() =>
        int.TryParse(System.Environment.GetEnvironmentVariable("S3BLOCK_VM_MAX_PARALLEL"), out var n) && n > 0 ? n : 1;

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "S3Block.sln"))
                || Directory.Exists(Path.Combine(dir.FullName, ".git"))
                || File.Exists(Path.Combine(dir.FullName, ".git")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"Cannot find the repository root (S3Block.sln or .git) above {AppContext.BaseDirectory}.");
    }
}
