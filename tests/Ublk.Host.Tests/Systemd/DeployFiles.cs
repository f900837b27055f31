namespace S3Block.Ublk.Tests.Systemd;

/// <summary>Paths of the files under deploy/ in this checkout.</summary>
internal static class DeployFiles
{
    private static readonly Lazy<string> LazyRepoRoot = new(FindRepoRoot);

    public static string RepoRoot => LazyRepoRoot.Value;

    public static string ServiceUnit => Path.Combine(RepoRoot, "deploy", "systemd", "s3block@.service");

    public static string ModulesLoad => Path.Combine(RepoRoot, "deploy", "modules-load.d", "ublk.conf");

    public static string ExampleConfig => Path.Combine(RepoRoot, "deploy", "systemd", "s3block-example.json");

    private static string FindRepoRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "S3Block.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no S3Block.sln above {AppContext.BaseDirectory}");
    }
}
