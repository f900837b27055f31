using System.Numerics;

namespace Ublk.Server.Block;

/// <summary>
/// A backend that stores nothing: reads return zeros, writes are dropped, flushes and discards succeed at once.
/// For measuring the device path without storage costs (like ublk's null target).
/// </summary>
public sealed class NullBackend : IBlockBackend
{
    public NullBackend(long sizeBytes, int logicalBlockSize = 512)
    {
        BackendArguments.Validate(sizeBytes, logicalBlockSize);
        SizeBytes = sizeBytes;
        LogicalBlockSize = logicalBlockSize;
    }

    public long SizeBytes { get; }

    public int LogicalBlockSize { get; }

    /// <summary>Every call is a memory copy or less: the ublk queue may run it on its own thread.</summary>
    public bool CompletesInline => true;

    public ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, destination.Length, SizeBytes);
        destination.Span.Clear();
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> source, WriteFlags flags, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, source.Length, SizeBytes);
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, length, SizeBytes);
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteZeroesAsync(long offset, long length, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, length, SizeBytes);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Argument checks shared by the simple backends.</summary>
internal static class BackendArguments
{
    public static void Validate(long sizeBytes, int logicalBlockSize)
    {
        if (logicalBlockSize is < 512 or > 4096 || !BitOperations.IsPow2(logicalBlockSize))
        {
            throw new ArgumentOutOfRangeException(nameof(logicalBlockSize), logicalBlockSize, "The block size must be a power of two from 512 to 4096.");
        }

        if (sizeBytes <= 0 || sizeBytes % logicalBlockSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, $"The size must be a positive multiple of the block size ({logicalBlockSize}).");
        }
    }

    /// <summary>A request outside the device is a caller bug; report it as EINVAL rather than corrupt anything.</summary>
    public static void CheckRange(long offset, long length, long sizeBytes)
    {
        if (offset < 0 || length < 0 || offset > sizeBytes - length)
        {
            throw new BlockIOException(BlockIOException.EINVAL, $"Request [{offset}, +{length}) is outside the device (size {sizeBytes}).");
        }
    }
}
