using System.Text.RegularExpressions;

namespace S3Block.Tests.Vm;

/// <summary>The S3Block series that the shipped Grafana dashboard and Prometheus alert rules query.</summary>
internal static partial class DashboardSeries
{
    public static IReadOnlyList<string> Names()
    {
        var files = new[] { "deploy/grafana/s3block.json", "deploy/prometheus/alerts.yml" };
        return [.. files
            .SelectMany(f => SeriesName().Matches(File.ReadAllText(Path.Combine(GuestVm.RepoRoot, f))))
            .Select(m => m.Value)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];
    }

    [GeneratedRegex("s3block_[a-z0-9_]*")]
    private static partial Regex SeriesName();
}
