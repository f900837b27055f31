using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;
using S3Block.TestKit.Volume;

namespace S3Block.Tests.Volume;

/// <summary>The crash-consistency oracle against the local directory store: 12 seeds of each crash kind.</summary>
public sealed class CrashConsistencyTests(ITestOutputHelper output) : CrashConsistencyContract(output), IDisposable
{
    private readonly TempFolder _folder = new("crash");

    public static TheoryData<CrashKind, int> LocalCases => Cases(seeds: 12);

    [Theory]
    [MemberData(nameof(LocalCases))]
    public Task The_recovered_disk_is_a_consistent_prefix_of_the_history(CrashKind kind, int seed) => RunAsync(kind, seed);

    protected override IObjectStore CreateStore() => new LocalDirectoryObjectStore(Path.Combine(_folder.Path, Guid.NewGuid().ToString("N")));

    public void Dispose() => _folder.Dispose();
}
