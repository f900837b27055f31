using S3Block.Ublk.Daemon;

namespace S3Block.Ublk.Tests.Daemon;

/// <summary>The binding id kept in the journal folder.</summary>
public sealed class JournalBindingTests : IDisposable
{
    private readonly string _journal = Path.Combine(Path.GetTempPath(), $"s3block-journalbinding-{Guid.NewGuid():N}", "journal");

    public void Dispose()
    {
        var root = Path.GetDirectoryName(_journal)!;
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void TheBindingReadsBackAndIsNoneWhenMissingOrDamaged()
    {
        Assert.Null(JournalBinding.Read(_journal));
        var volume = Guid.NewGuid();
        var binding = Guid.NewGuid();

        JournalBinding.Write(_journal, volume, binding);

        Assert.Equal((volume, binding), JournalBinding.Read(_journal));
        Assert.Equal([JournalBinding.FileName], Directory.GetFiles(_journal).Select(Path.GetFileName));
        File.WriteAllText(Path.Combine(_journal, JournalBinding.FileName), "{ \"volumeId\": \"x\"");
        Assert.Null(JournalBinding.Read(_journal));
    }
}
