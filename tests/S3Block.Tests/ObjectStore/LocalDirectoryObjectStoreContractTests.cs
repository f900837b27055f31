using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;

namespace S3Block.Tests.ObjectStore;

/// <summary>The shared object-store contract, against the embedded local directory store.</summary>
public sealed class LocalDirectoryObjectStoreContractTests : ObjectStoreContract, IDisposable
{
    private readonly TempFolder _folder = new("store");

    protected override IObjectStore CreateStore() =>
        new LocalDirectoryObjectStore(Path.Combine(_folder.Path, Guid.NewGuid().ToString("N")));

    public void Dispose() => _folder.Dispose();
}
