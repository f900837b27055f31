using Ublk.Server.Block;
using S3Block.Cache.Chunks;
using S3Block.TestKit.Volume;

namespace S3Block.Tests.Volume;

/// <summary>
/// A chunk rewritten in full by several writes (none covering it alone) is uploaded and read without fetching its old
/// image from S3; one left partly unwritten still gets its old bytes from there.
/// </summary>
public sealed class OverwriteWithoutBaseReadTests : IDisposable
{
    private const int Chunk = 64 * 1024;
    private readonly VolumeHarness _harness = new(sizeBytes: 1 << 20, chunkSize: Chunk);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_chunk_rewritten_in_quarters_one_of_them_trimmed_is_uploaded_and_read_without_a_GET_of_its_old_image()
    {
        await using (var volume = await _harness.OpenAsync())
        {
            await volume.WriteAsync(0, S3VolumeTests.Pattern(Chunk, seed: 1), WriteFlags.None, Ct);
            Assert.True(await volume.CommitOnceAsync(Ct));
        }

        var expected = S3VolumeTests.Pattern(Chunk, seed: 2);
        expected.AsSpan(Chunk / 2, Chunk / 4).Clear();
        await using (var volume = await _harness.OpenAsync())
        {
            for (var quarter = 3; quarter >= 0; quarter--)
            {
                if (quarter == 2)
                {
                    await volume.DiscardAsync(quarter * (Chunk / 4), Chunk / 4, Ct);
                    continue;
                }

                await volume.WriteAsync(quarter * (Chunk / 4), expected.AsMemory(quarter * (Chunk / 4), Chunk / 4), WriteFlags.None, Ct);
            }

            Assert.Equal(expected, await S3VolumeTests.ReadAsync(volume, 0, Chunk)); // dirty, spans all four
            PoisonChunkBuffers();
            Assert.True(await volume.CommitOnceAsync(Ct));
            Assert.Equal(0, volume.GetStatistics().ChunkFetches);
        }

        _harness.DeleteLocalState();
        await using (var volume = await _harness.OpenAsync())
        {
            Assert.Equal(expected, await S3VolumeTests.ReadAsync(volume, 0, Chunk)); // from S3 alone: the new image is whole
        }
    }

    [Fact]
    public async Task A_chunk_rewritten_but_for_one_block_keeps_that_block_from_its_old_image()
    {
        var old = S3VolumeTests.Pattern(Chunk, seed: 3);
        await using (var volume = await _harness.OpenAsync())
        {
            await volume.WriteAsync(0, old, WriteFlags.None, Ct);
            Assert.True(await volume.CommitOnceAsync(Ct));
        }

        var expected = S3VolumeTests.Pattern(Chunk, seed: 4);
        old.AsSpan(Chunk / 2, 4096).CopyTo(expected.AsSpan(Chunk / 2)); // one block left as it was
        await using (var volume = await _harness.OpenAsync())
        {
            await volume.WriteAsync(0, expected.AsMemory(0, Chunk / 2), WriteFlags.None, Ct);
            await volume.WriteAsync((Chunk / 2) + 4096, expected.AsMemory((Chunk / 2) + 4096), WriteFlags.None, Ct);

            Assert.Equal(expected, await S3VolumeTests.ReadAsync(volume, 0, Chunk));
            Assert.Equal(1, volume.GetStatistics().ChunkFetches);
            PoisonChunkBuffers();
            Assert.True(await volume.CommitOnceAsync(Ct));
            Assert.Equal(2, volume.GetStatistics().ChunkFetches); // no chunk cache here: the upload fetches its base too
        }

        _harness.DeleteLocalState();
        await using (var volume = await _harness.OpenAsync())
        {
            Assert.Equal(expected, await S3VolumeTests.ReadAsync(volume, 0, Chunk));
        }
    }

    public void Dispose() => _harness.Dispose();

    /// <summary>The next chunk buffers rented hold garbage, not an earlier image of the same chunk (which could hide
    /// a base read wrongly skipped).</summary>
    private static void PoisonChunkBuffers()
    {
        var buffers = Enumerable.Range(0, 8).Select(_ => ChunkBufferPool.Rent(Chunk)).ToList();
        foreach (var buffer in buffers)
        {
            buffer.AsSpan().Fill(0xA5);
            ChunkBufferPool.Return(buffer);
        }
    }
}
