namespace S3Block.Ublk.Metrics;

/// <summary>A double updated atomically from many threads: a running sum or a last value.</summary>
internal sealed class DoubleCell
{
    private double _value;

    public double Value => Volatile.Read(ref _value);

    public void Add(double delta)
    {
        // Compare-and-swap: Interlocked has no Add for doubles.
        var current = Volatile.Read(ref _value);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref _value, current + delta, current);
            if (seen.Equals(current))
            {
                return;
            }

            current = seen;
        }
    }

    public void Set(double value) => Volatile.Write(ref _value, value);
}
