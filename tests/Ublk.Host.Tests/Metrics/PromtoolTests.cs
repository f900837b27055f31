namespace S3Block.Ublk.Tests.Metrics;

/// <summary>
/// promtool (from Debian's prometheus package, installed by tests/metrics/install.sh) checks the real scrape output
/// (format and the naming lint) and the shipped alert rules.
/// </summary>
public sealed class PromtoolTests
{
    [Fact]
    public async Task TheScrapeOutputPassesPromtoolCheckMetrics()
    {
        var promtool = MetricsTools.Require("promtool");
        using var sample = new SampleMetrics();
        var text = sample.Scrape();

        var (exitCode, output) = await MetricsTools.RunAsync(promtool, ["check", "metrics"], text);

        Assert.True(exitCode == 0 && output.Trim().Length == 0, $"promtool check metrics (exit {exitCode}):\n{output}\n--- scrape ---\n{text}");
    }

    [Fact]
    public async Task AnEmptyCatalogAlsoPassesPromtoolCheckMetrics()
    {
        // Before the device and volume are registered the daemon still serves build info and process metrics.
        var promtool = MetricsTools.Require("promtool");
        using var sample = new SampleMetrics(populate: false);
        var text = sample.Scrape();

        var (exitCode, output) = await MetricsTools.RunAsync(promtool, ["check", "metrics"], text);

        Assert.True(exitCode == 0 && output.Trim().Length == 0, $"promtool check metrics (exit {exitCode}):\n{output}\n--- scrape ---\n{text}");
        Assert.Contains("s3block_build_info{version=\"1.2.3-test\"} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheShippedAlertRulesPassPromtoolCheckRules()
    {
        var promtool = MetricsTools.Require("promtool");

        var (exitCode, output) = await MetricsTools.RunAsync(promtool, ["check", "rules", MetricsTools.AlertRules]);

        Assert.True(exitCode == 0, $"promtool check rules {MetricsTools.AlertRules} (exit {exitCode}):\n{output}");
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAlertRulesFireOnTheirUnitTestSeries()
    {
        // tests/metrics/alerts_test.yml feeds synthetic series through the shipped rules and checks which alerts fire.
        var promtool = MetricsTools.Require("promtool");
        var tests = Path.Combine(MetricsTools.RepoRoot, "tests", "metrics", "alerts_test.yml");

        var (exitCode, output) = await MetricsTools.RunAsync(promtool, ["test", "rules", tests]);

        Assert.True(exitCode == 0, $"promtool test rules {tests} (exit {exitCode}):\n{output}");
    }

    [Fact]
    public void AMissingToolFailsTheTestNamingTheInstallScript()
    {
        var error = Assert.ThrowsAny<Exception>(() => MetricsTools.Require("no-such-tool-s3block"));

        Assert.Contains("tests/metrics/install.sh", error.Message, StringComparison.Ordinal);
    }
}
