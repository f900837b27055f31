using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary>The node identity is created once per state folder, also when several daemons start at once.</summary>
public sealed class NodeIdentityTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("node-id-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void It_is_created_once_and_read_back_afterwards()
    {
        var first = NodeIdentity.LoadOrCreate(_root);
        Assert.Equal(first, NodeIdentity.LoadOrCreate(_root));
        Assert.Equal(first.ToString("D") + "\n", File.ReadAllText(Path.Combine(_root, NodeIdentity.FileName)));
        Assert.DoesNotContain(Directory.GetFiles(_root), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void Daemons_starting_at_once_on_a_fresh_folder_all_get_the_identity_on_disk()
    {
        for (var round = 0; round < 30; round++)
        {
            var folder = Path.Combine(_root, $"round{round}");
            const int starters = 8;
            using var go = new Barrier(starters);
            var ids = new Guid[starters];
            var threads = Enumerable.Range(0, starters).Select(i => new Thread(() =>
            {
                go.SignalAndWait();
                ids[i] = NodeIdentity.LoadOrCreate(folder);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            var onDisk = Guid.Parse(File.ReadAllText(Path.Combine(folder, NodeIdentity.FileName)));
            Assert.All(ids, id => Assert.Equal(onDisk, id));
            Assert.DoesNotContain(Directory.GetFiles(folder), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_file_that_holds_no_identity_is_replaced()
    {
        File.WriteAllText(Path.Combine(_root, NodeIdentity.FileName), "");
        var id = NodeIdentity.LoadOrCreate(_root);
        Assert.Equal(id, Guid.Parse(File.ReadAllText(Path.Combine(_root, NodeIdentity.FileName))));
    }
}
