using System.Reflection;
using S3Block.Cache.Journal;
using S3Block.Ublk.Cli;
using Ublk.Server.Device;
using S3Block.Volume;

namespace S3Block.Ublk.Tests;

/// <summary>
/// Project references point one way (README "Architecture"): the executable over the volume and the ublk server
/// library; the volume over the cache and (for the block-backend contract only) the library; the library and the cache
/// over nothing of S3Block. A reference that turns around fails here, not in a review.
/// </summary>
public sealed class ProjectDependencyTests
{
    private static readonly Assembly UblkServer = typeof(UblkDevice).Assembly;
    private static readonly Assembly Volume = typeof(S3Volume).Assembly;
    private static readonly Assembly Cache = typeof(FlushJournal).Assembly;
    private static readonly Assembly Executable = typeof(ExitCodes).Assembly;

    [Fact]
    public void The_assemblies_are_the_ones_the_layout_names()
    {
        Assert.Equal("Ublk.Server", UblkServer.GetName().Name);
        Assert.Equal("S3Block.Core", Volume.GetName().Name);
        Assert.Equal("S3Block.Cache", Cache.GetName().Name);
        Assert.Equal("s3block", Executable.GetName().Name);
    }

    [Fact]
    public void The_ublk_server_library_references_nothing_of_S3Block() =>
        Assert.Empty(References(UblkServer).Intersect(["S3Block.Core", "S3Block.Cache", "s3block"]));

    [Fact]
    public void The_cache_references_neither_the_volume_nor_ublk() =>
        Assert.Empty(References(Cache).Intersect(["S3Block.Core", "Ublk.Server", "s3block"]));

    [Fact]
    public void The_volume_references_the_cache_and_the_library_but_not_the_executable()
    {
        var references = References(Volume);
        Assert.Contains("S3Block.Cache", references);
        Assert.Contains("Ublk.Server", references);
        Assert.DoesNotContain("s3block", references);
    }

    [Fact]
    public void The_library_has_no_knowledge_of_S3_or_hosting() =>
        Assert.DoesNotContain(References(UblkServer), name =>
            name.StartsWith("AWSSDK", StringComparison.Ordinal) || name.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal)
            || name.StartsWith("prometheus", StringComparison.Ordinal));

    private static HashSet<string> References(Assembly assembly) =>
        [.. assembly.GetReferencedAssemblies().Select(a => a.Name!)];
}
