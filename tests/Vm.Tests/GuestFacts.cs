namespace S3Block.Tests.Vm;

/// <summary>
/// One guest boot that gathers the facts several smoke tests check (kernel, modules, config, environment),
/// so each fact does not cost its own 5-15 s boot. Sections are printed as "### name" headers.
/// </summary>
public sealed class GuestFacts : IAsyncLifetime
{
    private const string Script = """
        section() { printf '### %s @%ss\n' "$1" "$SECONDS"; }
        section uname;        uname -r
        section ublk-control; stat -c '%F' /dev/ublk-control 2>&1
        section modules;      cut -d' ' -f1 /proc/modules | sort
        section ublk-config;  grep UBLK "$S3BLOCK_VM_KERNEL_CONFIG"
        section io_uring_disabled; cat /proc/sys/kernel/io_uring_disabled
        section io_uring_disabled_at_boot; cat /run/s3block-vm/io_uring_disabled.boot
        section whoami;       id -u
        section pwd;          pwd
        section env;          env | sort
        section writable
        for d in /tmp /var/tmp /var/log /root /run /mnt /dev/shm; do
          if touch "$d/.probe" 2>/dev/null; then echo "$d yes"; else echo "$d no"; fi
        done
        if touch /usr/.probe 2>/dev/null; then echo "/usr yes"; else echo "/usr no"; fi
        section loopback;     cat /sys/class/net/lo/flags
        section cpus;         cat /sys/devices/system/cpu/online; nproc
        section cmdline;      cat /proc/cmdline
        section end
        """;

    private Dictionary<string, string> _sections = [];

    public GuestVmResult Run { get; private set; } = null!;

    /// <summary>The trimmed text printed under "### name".</summary>
    public string this[string name] =>
        _sections.TryGetValue(name, out var text)
            ? text
            : throw new KeyNotFoundException($"no section '{name}' in the guest output:\n{Run.Describe()}");

    public async ValueTask InitializeAsync()
    {
        Run = await GuestVm.RunAsync(Script, TimeSpan.FromMinutes(3));
        if (Run.ExitCode != 0)
        {
            throw new InvalidOperationException($"The fact-gathering guest run failed: {Run.Describe()}");
        }

        _sections = GuestSections.Parse(Run.Output);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
