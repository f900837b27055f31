using System.Collections.Concurrent;
using System.Numerics;

namespace S3Block.Cache.Chunks;

/// <summary>
/// The one pool of chunk-sized buffers: the RAM tier's images, the images uploads build, whole-chunk reads from the
/// disk tier. Chunks are megabytes, so every such array lives on the large-object heap, which only a full (gen2)
/// collection frees; allocated anew each time, they pile up as garbage worth several times the RAM budget before one
/// runs, and the GC keeps the memory it committed for them. Recycled here, the steady state allocates none.
/// </summary>
/// <remarks>
/// <para>A buffer is the length asked for rounded up to a power of two; callers keep the length they asked for. A
/// buffer must be returned at most once, and only when nothing reads or writes it any more: the next renter
/// overwrites it. At most <see cref="MaxIdlePerSize"/> idle buffers of each size are kept; more are left to the GC, as
/// are buffers never returned (no harm but garbage).</para>
/// <para>Not <c>ArrayPool.Create</c>: once a size has more buffers out than it keeps, that pool hands out buffers of
/// the next size up, and the RAM tier, which holds most buffers for long, counted twice the memory per image.</para>
/// </remarks>
public static class ChunkBufferPool
{
    /// <summary>Idle buffers kept per size: 64 MiB of 4 MiB chunks, enough for the uploads and reads in flight.</summary>
    public const int MaxIdlePerSize = 16;

    /// <summary>The largest buffer pooled: the largest chunk a volume may have. Longer ones are plain arrays.</summary>
    public const int MaxPooledLength = 32 * 1024 * 1024;

    /// <summary>Smaller buffers are not chunks; they are plain arrays.</summary>
    private const int MinPooledLength = 4096;

    private static readonly int Sizes = BitOperations.Log2(MaxPooledLength) - BitOperations.Log2(MinPooledLength) + 1;
    private static readonly ConcurrentStack<byte[]>[] Idle = [.. Enumerable.Range(0, Sizes).Select(_ => new ConcurrentStack<byte[]>())];
    private static readonly int[] IdleCounts = new int[Sizes];
    private static long _doubleReturns;

    /// <summary>Tests: fill every returned buffer with <see cref="Poison"/> (so a read after return shows) and count a
    /// buffer returned while already idle (<see cref="DoubleReturns"/>).</summary>
    internal static volatile bool Checked;

    internal const byte Poison = 0xDB;

    internal static long DoubleReturns => Interlocked.Read(ref _doubleReturns);

    /// <summary>A buffer of at least <paramref name="length"/> bytes, its content undefined.</summary>
    public static byte[] Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length < MinPooledLength || length > MaxPooledLength)
        {
            return GC.AllocateUninitializedArray<byte>(length);
        }

        var size = (int)BitOperations.RoundUpToPowerOf2((uint)length);
        var slot = SlotOf(size);
        if (Idle[slot].TryPop(out var buffer))
        {
            Interlocked.Decrement(ref IdleCounts[slot]);
            return buffer;
        }

        return GC.AllocateUninitializedArray<byte>(size);
    }

    /// <summary>Hands a buffer from <see cref="Rent"/> back for reuse; nobody may touch it afterwards.</summary>
    public static void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length < MinPooledLength || buffer.Length > MaxPooledLength || !BitOperations.IsPow2(buffer.Length))
        {
            return;
        }

        var slot = SlotOf(buffer.Length);
        if (Checked)
        {
            if (Idle[slot].Contains(buffer))
            {
                Interlocked.Increment(ref _doubleReturns);
                return;
            }

            buffer.AsSpan().Fill(Poison);
        }

        if (Interlocked.Increment(ref IdleCounts[slot]) > MaxIdlePerSize)
        {
            Interlocked.Decrement(ref IdleCounts[slot]);
            return;
        }

        Idle[slot].Push(buffer);
    }

    private static int SlotOf(int powerOfTwo) => BitOperations.Log2((uint)powerOfTwo) - BitOperations.Log2(MinPooledLength);
}
