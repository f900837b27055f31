using S3Block.Cache.Chunks;

namespace S3Block.Tests.Chunks;

public sealed class ChunkCacheOptionsTests
{
    private const int Chunk = 4 << 20;

    [Fact]
    public void The_defaults_are_valid_for_every_supported_chunk_size()
    {
        foreach (var chunk in new[] { 64 << 10, 4 << 20, 32 << 20 })
        {
            Assert.Empty(new ChunkCacheOptions().Validate("Cache", chunk));
        }
    }

    [Fact]
    public void Each_problem_names_its_key_under_the_section()
    {
        var options = new ChunkCacheOptions
        {
            Folder = " ",
            DiskBudgetBytes = Chunk, // one chunk but not its header
            MemoryBudgetBytes = Chunk - 1,
            PromoteAfterDiskHits = -1,
        };

        var problems = options.Validate("S3Block:Cache", Chunk).ToArray();
        Assert.Equal(4, problems.Length);
        Assert.StartsWith("S3Block:Cache:Folder: required", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("S3Block:Cache:DiskBudgetBytes: must be at least one chunk (4202496 bytes", problems[1], StringComparison.Ordinal);
        Assert.StartsWith("S3Block:Cache:MemoryBudgetBytes: must be 0 (no RAM tier) or at least one chunk", problems[2], StringComparison.Ordinal);
        Assert.StartsWith("S3Block:Cache:PromoteAfterDiskHits:", problems[3], StringComparison.Ordinal);
    }

    [Fact]
    public void A_zero_memory_budget_and_an_exact_one_chunk_disk_budget_are_valid()
    {
        var options = new ChunkCacheOptions { DiskBudgetBytes = Chunk + 4096 + (Chunk / 4096 * 4), MemoryBudgetBytes = 0, PromoteAfterDiskHits = 0 };
        Assert.Empty(options.Validate("Cache", Chunk));
    }

    [Fact]
    public void Open_rejects_settings_that_cannot_work()
    {
        Assert.Throws<ArgumentException>(() => ChunkCache.Open(new ChunkCacheOptions { Folder = "" }));
        Assert.Throws<ArgumentException>(() => ChunkCache.Open(new ChunkCacheOptions { Folder = "x", DiskBudgetBytes = 4096 }));
        Assert.Throws<ArgumentException>(() => ChunkCache.Open(new ChunkCacheOptions { Folder = "x", MemoryBudgetBytes = -1 }));
    }
}
