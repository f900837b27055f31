using System.Text.Json;
using System.Text.RegularExpressions;

namespace S3Block.Ublk.Tests.Metrics;

/// <summary>deploy/grafana/s3block.json: its variables, and that it only uses metrics the daemon exports.</summary>
public sealed partial class DashboardTests
{
    /// <summary>Every PromQL expression of the dashboard's panels.</summary>
    public static IReadOnlyList<string> Expressions()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(MetricsTools.Dashboard));
        return [.. json.RootElement.GetProperty("panels").EnumerateArray()
            .Where(panel => panel.TryGetProperty("targets", out _))
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .Select(target => target.GetProperty("expr").GetString()!)];
    }

    [Fact]
    public void TheDashboardHasDatasourceJobAndInstanceVariablesAndUsesThemEverywhere()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(MetricsTools.Dashboard));
        var variables = json.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray()
            .ToDictionary(v => v.GetProperty("name").GetString()!, v => v.GetProperty("type").GetString());

        Assert.Equal("datasource", variables["datasource"]);
        Assert.Equal("query", variables["job"]);
        Assert.Equal("query", variables["instance"]);
        Assert.True(Expressions().Count >= 40);
        Assert.All(Expressions(), expr => Assert.Contains("job=~\"$job\", instance=~\"$instance\"", expr, StringComparison.Ordinal));
        Assert.All(json.RootElement.GetProperty("panels").EnumerateArray().Where(p => p.GetProperty("type").GetString() != "row"),
            panel => Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString()));
    }

    [Fact]
    public void EveryMetricTheDashboardUsesIsExported()
    {
        using var sample = new SampleMetrics();
        var exported = sample.Scrape().Split('\n')
            .Where(line => line.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(line => line.Split(' ')[2])
            .ToHashSet();

        var unknown = Expressions()
            .SelectMany(expr => MetricName().Matches(expr).Select(m => m.Value))
            .Select(name => HistogramSuffix().Replace(name, ""))
            .Where(name => !exported.Contains(name))
            .Distinct()
            .ToList();

        Assert.True(unknown.Count == 0, $"the dashboard uses metrics the daemon does not export: {string.Join(", ", unknown)}");
    }

    [GeneratedRegex(@"\b(s3block|process|dotnet)_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();
}
