using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;
using S3Block.TestKit.Volume;

namespace S3Block.Tests.Volume;

/// <summary>
/// The concurrent crash oracle (8 writers in flight, FLUSH, FUA and commits beside them, appends finishing out of
/// order) against the local directory store: 10 seeds of each mode, 3 crashes per seed.
/// </summary>
public sealed class ConcurrentCrashOracleTests(ITestOutputHelper output) : ConcurrentCrashOracleContract(output), IDisposable
{
    private readonly TempFolder _folder = new("concurrent-crash");

    public static TheoryData<Mode, int> LocalCases => Cases(seeds: 10);

    [Theory]
    [MemberData(nameof(LocalCases))]
    public Task Every_acknowledged_write_survives_and_the_disk_is_a_prefix(Mode mode, int seed) => RunAsync(mode, seed);

    protected override IObjectStore CreateStore() => new LocalDirectoryObjectStore(Path.Combine(_folder.Path, Guid.NewGuid().ToString("N")));

    public void Dispose() => _folder.Dispose();
}
