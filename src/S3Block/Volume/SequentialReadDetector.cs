namespace S3Block.Volume;

/// <summary>
/// Tells sequential reads from random ones among concurrent readers: a read is sequential when it starts exactly where
/// one of the last <see cref="Window"/> reads ended.
/// </summary>
/// <remarks>
/// The block layer hands the daemon a sequential stream as several requests at once (e.g. eight 1 MiB reads, over two
/// queues), which arrive in any order: comparing with the last read alone would miss most of them. A random read almost
/// never starts where one of a handful of recent reads ended, so random readers do not set off read-ahead.
/// </remarks>
internal sealed class SequentialReadDetector
{
    public const int Window = 16;

    private readonly Lock _lock = new();
    private readonly long[] _ends;
    private int _next;

    public SequentialReadDetector()
    {
        _ends = new long[Window];
        _ends.AsSpan().Fill(-1); // no read ends at -1, so nothing is sequential before the first reads
    }

    /// <summary>Records a read of <paramref name="length"/> bytes at <paramref name="offset"/>; true when it continues a recent one.</summary>
    public bool Observe(long offset, int length)
    {
        lock (_lock)
        {
            var sequential = _ends.AsSpan().Contains(offset);
            _ends[_next] = offset + length;
            _next = (_next + 1) % Window;
            return sequential;
        }
    }
}
