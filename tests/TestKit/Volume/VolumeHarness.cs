using S3Block.Cache.Journal;
using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.Volume;

namespace S3Block.TestKit.Volume;

/// <summary>A volume over a store (local directory by default) and a journal folder, reopened as a restarted daemon would.</summary>
public sealed class VolumeHarness : IDisposable
{
    private readonly TempFolder _folder = new("volume");

    public VolumeHarness(long sizeBytes = 1 << 20, int chunkSize = 64 * 1024, int blockSize = 4096, IObjectStore? store = null)
    {
        Store = new FaultyStore(store ?? new LocalDirectoryObjectStore(Path.Combine(_folder.Path, "store")));
        Descriptor = VolumeDescriptor.CreateNew("vol", sizeBytes, chunkSize, blockSize);
        VolumeCatalog.CreateAsync(Store, Descriptor, CancellationToken.None).GetAwaiter().GetResult();
    }

    public FaultyStore Store { get; }

    public VolumeDescriptor Descriptor { get; }

    public Guid Node { get; } = Guid.NewGuid();

    public string JournalDirectory => Path.Combine(_folder.Path, "journal");

    /// <summary>Options that leave every commit to the test (<see cref="S3Volume.CommitOnceAsync"/>).</summary>
    public static VolumeOptions ManualCommits => new()
    {
        CommitInterval = TimeSpan.FromHours(1),
        CommitThresholdBytes = long.MaxValue,
        GarbageDelay = TimeSpan.Zero,
        CheckpointEvery = 4,
        MaxRetryDelay = TimeSpan.FromMilliseconds(20),
        ReadTimeout = TimeSpan.FromSeconds(2),
    };

    public Task<S3Volume> OpenAsync(VolumeOptions? options = null, Guid? node = null, bool force = false, JournalOptions? journal = null) =>
        S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = Store,
            VolumeName = Descriptor.Name,
            JournalDirectory = JournalDirectory,
            JournalOptions = journal ?? new JournalOptions { SegmentSizeBytes = 1 << 20, CapacityBytes = 64L << 20 },
            Options = options ?? ManualCommits,
            Node = node ?? Node,
            ForceTakeover = force,
        }, CancellationToken.None);

    /// <summary>Reads the whole device.</summary>
    public static async Task<byte[]> ReadAllAsync(S3Volume volume)
    {
        var image = new byte[volume.SizeBytes];
        await volume.ReadAsync(0, image, CancellationToken.None);
        return image;
    }

    /// <summary>Loses the local disk: the journal (and with it everything not yet in S3).</summary>
    public void DeleteLocalState()
    {
        if (Directory.Exists(JournalDirectory))
        {
            Directory.Delete(JournalDirectory, recursive: true);
        }
    }

    public void Dispose()
    {
        Store.Dispose();
        _folder.Dispose();
    }
}
