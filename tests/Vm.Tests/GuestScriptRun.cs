namespace S3Block.Tests.Vm;

/// <summary>
/// A class fixture that boots the guest once, runs one bash script in it with the built <c>s3block</c> as
/// <c>$S3BLOCK_BIN</c> and the repository as <c>$S3BLOCK_REPO</c> (for <c>tests/vm/guest-lib.sh</c>), and hands each test the section of the output it asserts on (<see cref="GuestSections"/>).
/// </summary>
public abstract class GuestScriptRun : IAsyncLifetime
{
    private Dictionary<string, string> _sections = [];

    public GuestVmResult Run { get; private set; } = null!;

    /// <summary>The second boot's run (<see cref="RebootScript"/>), or none.</summary>
    public GuestVmResult? RebootRun { get; private set; }

    /// <summary>The trimmed text printed under "### name".</summary>
    public string this[string name] =>
        _sections.TryGetValue(name, out var text)
            ? text
            : throw new KeyNotFoundException($"no section '{name}' in the guest output:\n{Describe()}");

    /// <summary>The guest script.</summary>
    protected abstract string Script { get; }

    /// <summary>How long the whole boot may take.</summary>
    protected abstract TimeSpan Timeout { get; }

    /// <summary>
    /// Size of a sparse raw image created for this run and attached as the guest's first disk (0: no disk). It
    /// lives under <c>artifacts/vm-disks</c> (a real filesystem: qemu opens it with O_DIRECT) and is deleted after.
    /// </summary>
    protected virtual long DiskBytes => 0;

    /// <summary>More environment for the guest script.</summary>
    protected virtual IReadOnlyDictionary<string, string> ExtraEnvironment => new Dictionary<string, string>();

    /// <summary>Creates raw images to attach as further virtio disks, called once before the boot (the caller keeps them).</summary>
    protected virtual IReadOnlyList<string> PrepareDisks() => [];

    /// <summary>Creates raw images to attach after those, as <see cref="GuestVmOptions.ScratchDisks"/> (the caller keeps them).</summary>
    protected virtual IReadOnlyList<string> PrepareScratchDisks() => [];

    /// <summary>A host folder the guest may write (<see cref="GuestVmOptions.ShareDirectory"/>), or none.</summary>
    protected virtual string? ShareDirectory => null;

    /// <summary>Boot systemd as PID 1 and run the script as a unit (<see cref="GuestVmOptions.Systemd"/>).</summary>
    protected virtual bool Systemd => false;

    /// <summary>
    /// With <see cref="Systemd"/>: a script for a second boot of the same machine, a reboot. Both boots share a state
    /// disk that holds the guest's root (<see cref="GuestVmOptions.StateDisk"/>), so the second one finds what the first
    /// installed and wrote, as it left it at its `systemctl poweroff`. Its sections join the first boot's.
    /// </summary>
    protected virtual string? RebootScript => null;

    /// <summary>How long the second boot may take.</summary>
    protected virtual TimeSpan RebootTimeout => TimeSpan.FromMinutes(5);

    public async ValueTask InitializeAsync()
    {
        var binary = UblkServeBackendRun.S3BlockBinary;
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException($"{binary} is missing: build src/Ublk.Host first");
        }

        string? disk = DiskBytes > 0 ? CreateDisk() : null;
        string? stateDisk = RebootScript is null ? null : StateDiskPath();
        var environment = new Dictionary<string, string>(ExtraEnvironment)
        {
            ["S3BLOCK_BIN"] = binary,
            ["S3BLOCK_REPO"] = GuestVm.RepoRoot,
        };
        var options = new GuestVmOptions
        {
            Systemd = Systemd,
            ShareDirectory = ShareDirectory,
            Environment = environment,
            Disks = [.. disk is null ? [] : new[] { disk }, .. PrepareDisks()],
            ScratchDisks = PrepareScratchDisks(),
            StateDisk = stateDisk,
        };
        try
        {
            Run = await GuestVm.RunAsync(Script, Timeout, options, TestContext.Current.CancellationToken);
            if (RebootScript is { } rebootScript)
            {
                RebootRun = await GuestVm.RunAsync(rebootScript, RebootTimeout, options, TestContext.Current.CancellationToken);
            }
        }
        finally
        {
            if (disk is not null)
            {
                File.Delete(disk);
            }

            if (stateDisk is not null)
            {
                File.Delete(stateDisk);
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine(Describe());
        SaveLog();
        CheckOutput(Run.Output);
        _sections = GuestSections.Parse(Run.Output);
        if (RebootRun is not null)
        {
            foreach (var (name, text) in GuestSections.Parse(RebootRun.Output))
            {
                if (!_sections.TryAdd(name, text))
                {
                    throw new InvalidOperationException($"section '{name}' is in both boots' output");
                }
            }
        }
    }

    /// <summary>Both boots' runs, for a failure report.</summary>
    private string Describe() =>
        RebootRun is null ? Run.Describe() : $"{Run.Describe()}\n=== second boot (reboot) ===\n{RebootRun.Describe()}";

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Where the state disk of <see cref="RebootScript"/> goes: run.sh creates it (no file yet), it is deleted after.</summary>
    private string StateDiskPath()
    {
        var folder = Path.Combine(GuestVm.RepoRoot, "artifacts", "vm-disks");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{GetType().Name}-{Environment.ProcessId}-state.img");
        File.Delete(path);
        return path;
    }

    private string CreateDisk()
    {
        var folder = Path.Combine(GuestVm.RepoRoot, "artifacts", "vm-disks");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{GetType().Name}-{Environment.ProcessId}.img");
        using (var image = new FileStream(path, FileMode.Create, FileAccess.Write))
        {
            image.SetLength(DiskBytes);
        }

        return path;
    }

    /// <summary>Keeps the whole run (output and console) in <c>artifacts/vm-logs/FIXTURE.log</c> for a look after a failure.</summary>
    private void SaveLog()
    {
        var folder = Path.Combine(GuestVm.RepoRoot, "artifacts", "vm-logs");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, GetType().Name + ".log"), Describe());
    }

    /// <summary>A chance to turn a known failure into a clear message.</summary>
    protected virtual void CheckOutput(string output)
    {
    }
}
