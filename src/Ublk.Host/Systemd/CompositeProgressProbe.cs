namespace S3Block.Ublk.Systemd;

/// <summary>
/// Several named probes checked as one: healthy only when every probe is, and a stuck result names each stuck probe
/// ("queue 1: …; uploader: …"). Every probe is checked every time (no short-circuit) so stateful probes keep their
/// baseline. Probes can be added while running — the device's queue threads exist only after it started — and removed
/// by disposing what <see cref="Add"/> returned. A probe that throws counts as stuck. Thread-safe.
/// </summary>
internal sealed class CompositeProgressProbe : IProgressProbe
{
    private readonly Lock _gate = new();
    private readonly List<IProgressProbe> _probes = [];

    /// <param name="probes">Probes present from the start (e.g. every <see cref="IProgressProbe"/> registered in DI).</param>
    /// <param name="name">This composite's own name, when it is nested in another.</param>
    public CompositeProgressProbe(IEnumerable<IProgressProbe>? probes = null, string name = "all")
    {
        Name = name;
        foreach (IProgressProbe probe in probes ?? [])
        {
            Add(probe);
        }
    }

    public string Name { get; }

    /// <summary>The names of the probes checked now.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_gate)
            {
                return [.. _probes.Select(p => p.Name)];
            }
        }
    }

    /// <summary>Adds a probe; dispose the result to remove it again (e.g. when the device stops).</summary>
    public IDisposable Add(IProgressProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        lock (_gate)
        {
            if (_probes.Any(p => p.Name == probe.Name))
            {
                throw new ArgumentException($"a progress probe named '{probe.Name}' is already registered", nameof(probe));
            }

            _probes.Add(probe);
        }

        return new Registration(this, probe);
    }

    public ProbeResult Check()
    {
        IProgressProbe[] probes;
        lock (_gate)
        {
            probes = [.. _probes];
        }

        var stuck = new List<string>();
        foreach (IProgressProbe probe in probes)
        {
            ProbeResult result = CheckOne(probe);
            if (!result.IsHealthy)
            {
                stuck.Add($"{probe.Name}: {result.Detail ?? "no progress"}");
            }
        }

        return stuck.Count == 0 ? ProbeResult.Healthy : ProbeResult.Stuck(string.Join("; ", stuck));
    }

    private static ProbeResult CheckOne(IProgressProbe probe)
    {
        try
        {
            return probe.Check();
        }
#pragma warning disable CA1031 // A broken probe must read as "stuck", not kill the watchdog loop.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return ProbeResult.Stuck($"the probe threw {exception.GetType().Name}: {exception.Message}");
        }
    }

    private void Remove(IProgressProbe probe)
    {
        lock (_gate)
        {
            _probes.Remove(probe);
        }
    }

    private sealed class Registration(CompositeProgressProbe owner, IProgressProbe probe) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Remove(probe);
            }
        }
    }
}
