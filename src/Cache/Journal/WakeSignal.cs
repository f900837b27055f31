namespace S3Block.Cache.Journal;

/// <summary>A wake-up signal for one loop running on its own thread.</summary>
/// <remarks>
/// Protocol (single consumer): the consumer calls <see cref="Reset"/>, then checks its state, then calls
/// <see cref="Wait"/> if there was nothing to do. Producers change the state first, then call <see cref="Set"/>.
/// A Set that lands before the Reset is not lost: the state check that follows the Reset sees the producer's change;
/// a Set after the Reset makes the Wait return.
/// </remarks>
internal sealed class WakeSignal : IDisposable
{
    private readonly ManualResetEventSlim _event = new(initialState: false, spinCount: 0);

    /// <summary>Wakes the consumer. Cheap when nobody waits.</summary>
    public void Set() => _event.Set();

    /// <summary>Re-arms the signal.</summary>
    public void Reset() => _event.Reset();

    /// <summary>Blocks until <see cref="Set"/> has been called since the last <see cref="Reset"/>.</summary>
    public void Wait() => _event.Wait();

    public void Dispose() => _event.Dispose();
}
