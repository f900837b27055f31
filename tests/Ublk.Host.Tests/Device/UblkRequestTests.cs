using Microsoft.Extensions.Logging.Abstractions;
using S3Block.Block;
using S3Block.Ublk.Device;
using S3Block.Ublk.Interop;

namespace S3Block.Ublk.Tests.Device;

/// <summary>A tag's trip through the backend: op mapping, FUA, results, errno mapping, async completion.</summary>
public sealed class UblkRequestTests
{
    [Theory]
    [InlineData((byte)UblkIoOp.Read, 8192, 8192)]
    [InlineData((byte)UblkIoOp.Write, 4096, 4096)]
    [InlineData((byte)UblkIoOp.Flush, 0, 0)]
    [InlineData((byte)UblkIoOp.Discard, 1 << 20, 0)]
    [InlineData((byte)UblkIoOp.WriteZeroes, 65536, 0)]
    public void SuccessReportsFullBytesForDataOpsAndZeroOtherwise(byte opCode, long length, int expected)
    {
        var op = (UblkIoOp)opCode;
        var backend = new RecordingBackend();
        (int tag, int result) = Run(backend, op, 4096, length, fua: false);
        Assert.Equal(5, tag);
        Assert.Equal(expected, result);
        Assert.Equal($"{op}@4096+{length}", backend.Calls.Single());
    }

    [Fact]
    public void FuaWritesCarryForceUnitAccess()
    {
        var backend = new RecordingBackend();
        Run(backend, UblkIoOp.Write, 0, 512, fua: true);
        Assert.Equal(WriteFlags.ForceUnitAccess, backend.LastWriteFlags);
        Run(backend, UblkIoOp.Write, 0, 512, fua: false);
        Assert.Equal(WriteFlags.None, backend.LastWriteFlags);
    }

    [Fact]
    public void BlockIOExceptionBecomesItsNegativeErrno()
    {
        var backend = new RecordingBackend { Failure = new BlockIOException(BlockIOException.ENOSPC, "full") };
        var stats = new UblkStats();
        Assert.Equal(-28, Run(backend, UblkIoOp.Write, 0, 512, fua: false, stats).Result);
        Assert.Equal(1, stats.Failed);
    }

    [Fact]
    public void AnyOtherExceptionBecomesEio()
    {
        var backend = new RecordingBackend { Failure = new InvalidOperationException("boom") };
        Assert.Equal(-5, Run(backend, UblkIoOp.Read, 0, 512, fua: false).Result);
    }

    [Fact]
    public void AsynchronousCompletionAndFailureArePosted()
    {
        var backend = new RecordingBackend { Asynchronous = true };
        Assert.Equal(4096, Run(backend, UblkIoOp.Read, 0, 4096, fua: false).Result);
        backend.Failure = new BlockIOException(BlockIOException.ETIMEDOUT, "slow");
        Assert.Equal(-110, Run(backend, UblkIoOp.Flush, 0, 0, fua: false).Result);
    }

    [Fact]
    public async Task ReadDataLandsInTheTagBuffer()
    {
        byte[] buffer = new byte[8192];
        var backend = new MemoryBackend(1 << 20);
        byte[] data = Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray();
        await backend.WriteAsync(8192, data, WriteFlags.None, TestContext.Current.CancellationToken);
        Run(backend, UblkIoOp.Read, 8192, 4096, fua: false, buffer: buffer);
        Assert.Equal(data, buffer[..4096]);
    }

    private static TagCompletion Run(IBlockBackend backend, UblkIoOp op, long offset, long length, bool fua, UblkStats? stats = null, byte[]? buffer = null)
    {
        using var channel = new CompletionChannel(8);
        var request = new UblkRequest(0, 5, buffer ?? new byte[1 << 20], backend, channel, stats ?? new UblkStats(), NullLogger.Instance);
        request.Prepare(op, offset, length, fua);
        ThreadPool.UnsafeQueueUserWorkItem(request, preferLocal: false);

        var taken = new TagCompletion[8];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            int count = channel.TakeAll(taken);
            if (count > 0)
            {
                Assert.Equal(1, count);
                return taken[0];
            }

            Thread.Sleep(1);
        }

        throw new TimeoutException("the request never completed");
    }

    private sealed class RecordingBackend : IBlockBackend
    {
        public List<string> Calls { get; } = [];

        public WriteFlags LastWriteFlags { get; private set; }

        public Exception? Failure { get; set; }

        public bool Asynchronous { get; set; }

        public long SizeBytes => 1L << 30;

        public int LogicalBlockSize => 512;

        public ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken) =>
            Record($"Read@{offset}+{destination.Length}");

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> source, WriteFlags flags, CancellationToken cancellationToken)
        {
            LastWriteFlags = flags;
            return Record($"Write@{offset}+{source.Length}");
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken) => Record("Flush@4096+0");

        public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken) => Record($"Discard@{offset}+{length}");

        public ValueTask WriteZeroesAsync(long offset, long length, CancellationToken cancellationToken) => Record($"WriteZeroes@{offset}+{length}");

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private ValueTask Record(string call)
        {
            lock (Calls)
            {
                Calls.Add(call);
            }

            return Asynchronous ? new ValueTask(CompleteLaterAsync()) : Failure is null ? ValueTask.CompletedTask : ValueTask.FromException(Failure);
        }

        private async Task CompleteLaterAsync()
        {
            await Task.Delay(20);
            if (Failure is not null)
            {
                throw Failure;
            }
        }
    }
}
