using System.Diagnostics;
using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;

namespace S3Block.Tests.ObjectStore;

/// <summary>What only the local store must do: stay inside its folder and leave no debris.</summary>
public sealed class LocalDirectoryObjectStoreTests : IDisposable
{
    private readonly TempFolder _folder = new("store");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_full_disk_is_a_transient_failure_that_leaves_nothing_behind()
    {
        using var disk = new SmallFileSystem(4 << 20);
        var store = new LocalDirectoryObjectStore(Path.Combine(disk.Path, "store"));
        disk.Fill(leaveFree: 64 * 1024);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("vol/chunk", new byte[1 << 20], PutCondition.None, Ct));

        Assert.Equal(ObjectStoreErrorKind.Transient, error.Kind); // retried like a 503, never a fault of the volume
        Assert.Contains("full", error.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(disk.Path, "store", ".tmp")));
        await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("vol/chunk", Ct));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/./b")]
    public async Task Dot_segments_never_leave_the_root(string key)
    {
        var root = Path.Combine(_folder.Path, "root");
        using var store = new LocalDirectoryObjectStore(root);

        await store.PutAsync(key, "x"u8.ToArray(), PutCondition.None, Ct);

        var files = Directory.GetFiles(_folder.Path, "*", SearchOption.AllDirectories);
        Assert.All(files, f => Assert.StartsWith(root + Path.DirectorySeparatorChar, f, StringComparison.Ordinal));
        Assert.Equal("x"u8.ToArray(), (await store.GetAsync(key, null, Ct)).Data);
        Assert.Equal([key], await store.ListAllAsync("", Ct).Select(o => o.Key).ToListAsync(Ct));
    }

    [Theory]
    [InlineData("/absolute")]
    [InlineData("trailing/")]
    [InlineData("a//b")]
    [InlineData("")]
    public async Task Keys_that_cannot_round_trip_are_rejected_as_permanent_errors(string key)
    {
        using var store = new LocalDirectoryObjectStore(_folder.Path);

        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync(key, "x"u8.ToArray(), PutCondition.None, Ct));

        Assert.Equal(ObjectStoreErrorKind.Permanent, e.Kind);
        Assert.Equal("InvalidKey", e.ErrorCode);
    }

    [Fact]
    public async Task A_key_and_a_prefix_of_the_same_name_coexist()
    {
        using var store = new LocalDirectoryObjectStore(_folder.Path);

        await store.PutAsync("a", "file"u8.ToArray(), PutCondition.None, Ct);
        await store.PutAsync("a/b", "nested"u8.ToArray(), PutCondition.None, Ct);
        await store.PutAsync("a.d", "dotted"u8.ToArray(), PutCondition.None, Ct);

        Assert.Equal("file"u8.ToArray(), (await store.GetAsync("a", null, Ct)).Data);
        Assert.Equal("nested"u8.ToArray(), (await store.GetAsync("a/b", null, Ct)).Data);
        Assert.Equal(["a", "a.d", "a/b"], await store.ListAllAsync("a", Ct).Select(o => o.Key).ToListAsync(Ct));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("with space/and%percent")]
    [InlineData("unicode/øæå/日本")]
    [InlineData("vol-1/chunks/0000000000000a3f/e00000002-g000000000000001")]
    public void Key_paths_round_trip(string key)
    {
        Assert.Equal(key, LocalKeyPath.ToKey(LocalKeyPath.ToRelativePath(key)));
    }

    [Fact]
    public async Task Puts_leave_no_temporary_files_behind()
    {
        using var store = new LocalDirectoryObjectStore(_folder.Path);

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => store.PutAsync($"k/{i}", new byte[100], PutCondition.None, Ct)));
        await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k/1", new byte[1], PutCondition.CreateOnly, Ct));

        Assert.Empty(Directory.GetFiles(Path.Combine(_folder.Path, ".tmp")));
    }

    [Fact]
    public async Task Create_only_has_exactly_one_winner_across_processes()
    {
        // Two stores over the same folder in this process share the in-process gate, so race separate processes:
        // each child tries a create-only PUT of its own content; exactly one may succeed.
        var root = Path.Combine(_folder.Path, "shared");
        Directory.CreateDirectory(root);
        var self = typeof(LocalDirectoryObjectStoreTests).Assembly.Location;
        const int processes = 6;

        var children = Enumerable.Range(0, processes).Select(i => Process.Start(new ProcessStartInfo("dotnet", [self, "--race-create", root, $"p{i}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!).ToList();
        var outputs = await Task.WhenAll(children.Select(async p =>
        {
            var text = await p.StandardOutput.ReadToEndAsync(Ct);
            await p.WaitForExitAsync(Ct);
            return text.Trim();
        }));

        Assert.All(outputs, o => Assert.True(o is "won" or "lost", $"unexpected child output: {o}"));
        Assert.Single(outputs, o => o == "won");
    }

    public void Dispose() => _folder.Dispose();
}
