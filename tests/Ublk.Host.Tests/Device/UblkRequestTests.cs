using Microsoft.Extensions.Logging.Abstractions;
using Ublk.Server.Block;
using Ublk.Server.Device;
using Ublk.Server.Interop;
using S3Block.TestKit;

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

    [Fact]
    public void TryRunCompletesASynchronousBackendOnTheCallingThreadWithoutPosting()
    {
        using var channel = new CompletionChannel(8);
        var backend = new RecordingBackend();
        var request = new UblkRequest(0, 3, new byte[8192], backend, channel, new UblkStats(), NullLogger.Instance);
        request.Prepare(UblkIoOp.Write, 512, 4096, forceUnitAccess: false);

        Assert.True(request.TryRun(out int result));
        Assert.Equal(4096, result);
        Assert.Equal("Write@512+4096", backend.Calls.Single());
        Assert.Equal(0, channel.TakeAll(new TagCompletion[8])); // the caller commits it; nothing goes through the channel
        Assert.Equal(0, channel.WakeupWrites);
    }

    [Fact]
    public void TryRunReportsSynchronousFailuresAsItsResult()
    {
        using var channel = new CompletionChannel(8);
        var stats = new UblkStats();
        var request = new UblkRequest(0, 1, new byte[8192], new MemoryBackend(1 << 20), channel, stats, NullLogger.Instance);
        request.Prepare(UblkIoOp.Read, 1 << 20, 4096, forceUnitAccess: false); // past the end: the backend throws at once

        Assert.True(request.TryRun(out int result));
        Assert.Equal(-BlockIOException.EINVAL, result);
        Assert.Equal(1, stats.Failed);

        var failing = new UblkRequest(0, 2, new byte[8192], new RecordingBackend { Failure = new InvalidOperationException("boom") }, channel, stats, NullLogger.Instance);
        failing.Prepare(UblkIoOp.Flush, 0, 0, forceUnitAccess: false);
        Assert.True(failing.TryRun(out result));
        Assert.Equal(-5, result);
        Assert.Equal(0, channel.TakeAll(new TagCompletion[8]));
    }

    [Fact]
    public void TryRunHandsAnUnfinishedCallToTheChannel()
    {
        // An inline backend that goes asynchronous after all: the queue thread must not wait, and the result arrives
        // through the channel exactly once.
        using var channel = new CompletionChannel(8);
        var request = new UblkRequest(0, 6, new byte[8192], new RecordingBackend { Asynchronous = true }, channel, new UblkStats(), NullLogger.Instance);
        request.Prepare(UblkIoOp.Read, 0, 8192, forceUnitAccess: false);

        Assert.False(request.TryRun(out _));
        Assert.Equal(new TagCompletion(6, 8192), WaitForCompletion(channel));
    }

    [Fact]
    public void InlineRequestsOnTheMemoryBackendDoNotAllocate()
    {
        // The queue thread runs these for every request: garbage there would mean GC pauses on the I/O path.
        using var channel = new CompletionChannel(8);
        var request = new UblkRequest(0, 0, new byte[1 << 16], new MemoryBackend(1 << 20), channel, new UblkStats(), NullLogger.Instance);
        void RunAll()
        {
            foreach ((UblkIoOp op, long offset, long length) in new[] { (UblkIoOp.Write, 0L, 65536L), (UblkIoOp.Read, 4096L, 4096L), (UblkIoOp.Write, 8192L, 512L), (UblkIoOp.Flush, 0L, 0L) })
            {
                request.Prepare(op, offset, length, forceUnitAccess: false);
                Assert.True(request.TryRun(out int result));
                Assert.True(result >= 0);
            }
        }

        RunAll(); // allocates the pages once
        void ReadAndWrite()
        {
            request.Prepare(UblkIoOp.Read, 4096, 4096, forceUnitAccess: false);
            request.TryRun(out _);
            request.Prepare(UblkIoOp.Write, 8192, 4096, forceUnitAccess: true);
            request.TryRun(out _);
        }

        Assert.Equal(0, SteadyStateAllocation.MinimumBytes(ReadAndWrite, iterations: 100));
    }

    [Fact]
    public void InlineCompletionIsOptIn()
    {
        Assert.False(((IBlockBackend)new RecordingBackend()).CompletesInline);
        Assert.True(((IBlockBackend)new MemoryBackend(1 << 20)).CompletesInline);
        Assert.True(((IBlockBackend)new NullBackend(1 << 20)).CompletesInline);
    }

    private static TagCompletion Run(IBlockBackend backend, UblkIoOp op, long offset, long length, bool fua, UblkStats? stats = null, byte[]? buffer = null)
    {
        using var channel = new CompletionChannel(8);
        var request = new UblkRequest(0, 5, buffer ?? new byte[1 << 20], backend, channel, stats ?? new UblkStats(), NullLogger.Instance);
        request.Prepare(op, offset, length, fua);
        ThreadPool.UnsafeQueueUserWorkItem(request, preferLocal: false);
        return WaitForCompletion(channel);
    }

    private static TagCompletion WaitForCompletion(CompletionChannel channel)
    {
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
