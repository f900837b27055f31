using Ublk.Server.Block;

namespace Samples.RamDisk;

/// <summary>
/// The smallest useful block backend: the disk is one array in process memory, lost when the process ends. Every call
/// completes synchronously without I/O, so it may run inline on the ublk queue thread (<see cref="CompletesInline"/>).
/// </summary>
public sealed class RamDiskBackend(long sizeBytes) : IBlockBackend
{
    private readonly byte[] _bytes = new byte[sizeBytes];

    public long SizeBytes => _bytes.LongLength;

    public int LogicalBlockSize => 4096;

    public bool CompletesInline => true;

    public ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        _bytes.AsSpan(checked((int)offset), destination.Length).CopyTo(destination.Span);
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> source, WriteFlags flags, CancellationToken cancellationToken)
    {
        // Memory is as durable as this disk gets: FUA and FLUSH have nothing more to do.
        source.Span.CopyTo(_bytes.AsSpan(checked((int)offset)));
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken) =>
        WriteZeroesAsync(offset, length, cancellationToken);

    public ValueTask WriteZeroesAsync(long offset, long length, CancellationToken cancellationToken)
    {
        _bytes.AsSpan(checked((int)offset), checked((int)length)).Clear();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
