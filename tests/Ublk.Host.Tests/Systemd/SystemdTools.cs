namespace S3Block.Ublk.Tests.Systemd;

/// <summary>Finds systemd's command-line tools. Missing tools fail the test (never skip): install them with
/// tests/systemd/install.sh.</summary>
internal static class SystemdTools
{
    private static readonly string[] Folders = ["/usr/bin", "/bin", "/usr/local/bin"];

    /// <summary>The full path of <paramref name="name"/>; fails the test with instructions when it is not installed.</summary>
    public static string Require(string name)
    {
        string? path = Folders.Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);
        Assert.True(path is not null,
            $"{name} is not installed (looked in {string.Join(", ", Folders)}). It is part of Debian's 'systemd' package: " +
            "run tests/systemd/install.sh (apt-get install systemd) and re-run the tests.");
        return path;
    }
}
