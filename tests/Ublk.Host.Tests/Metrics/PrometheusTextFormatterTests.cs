using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

public sealed class PrometheusTextFormatterTests
{
    private static KeyValuePair<string, string> L(string name, string value) => new(name, value);

    [Fact]
    public void ACounterHasHelpTypeAndOneLinePerSeries()
    {
        var family = new MetricFamily("s3block_io_requests_total", MetricType.Counter, "Requests.",
            [new ValuePoint([L("op", "read"), L("result", "ok")], 3), new ValuePoint([L("op", "write"), L("result", "ok")], 4)]);

        Assert.Equal(
            "# HELP s3block_io_requests_total Requests.\n" +
            "# TYPE s3block_io_requests_total counter\n" +
            "s3block_io_requests_total{op=\"read\",result=\"ok\"} 3\n" +
            "s3block_io_requests_total{op=\"write\",result=\"ok\"} 4\n",
            PrometheusTextFormatter.Format([family]));
    }

    [Fact]
    public void AGaugeWithoutLabelsHasNoBracesAndNoHelpLineWhenHelpIsEmpty()
    {
        var text = PrometheusTextFormatter.Format([MetricFamily.Single("s3block_dirty_bytes", MetricType.Gauge, "", 12.5)]);

        Assert.Equal("# TYPE s3block_dirty_bytes gauge\ns3block_dirty_bytes 12.5\n", text);
    }

    [Fact]
    public void HistogramBucketsAreCumulativeAndEndWithInfSumAndCount()
    {
        var family = new MetricFamily("s3block_io_duration_seconds", MetricType.Histogram, "Latency.",
            [new HistogramPoint([L("op", "read")], [0.001, 0.01, 0.1], [1, 0, 3, 2], 1.25)]);

        Assert.Equal(
            "# HELP s3block_io_duration_seconds Latency.\n" +
            "# TYPE s3block_io_duration_seconds histogram\n" +
            "s3block_io_duration_seconds_bucket{op=\"read\",le=\"0.001\"} 1\n" +
            "s3block_io_duration_seconds_bucket{op=\"read\",le=\"0.01\"} 1\n" +
            "s3block_io_duration_seconds_bucket{op=\"read\",le=\"0.1\"} 4\n" +
            "s3block_io_duration_seconds_bucket{op=\"read\",le=\"+Inf\"} 6\n" +
            "s3block_io_duration_seconds_sum{op=\"read\"} 1.25\n" +
            "s3block_io_duration_seconds_count{op=\"read\"} 6\n",
            PrometheusTextFormatter.Format([family]));
    }

    [Fact]
    public void AnUnlabelledHistogramHasOnlyLeOnItsBuckets()
    {
        var text = PrometheusTextFormatter.Format([new MetricFamily("h_seconds", MetricType.Histogram, "",
            [new HistogramPoint([], [1], [2, 0], 0.5)])]);

        Assert.Contains("h_seconds_bucket{le=\"1\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("h_seconds_bucket{le=\"+Inf\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("h_seconds_sum 0.5\nh_seconds_count 2\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCountAlwaysEqualsTheInfBucketEvenWithFewerCountsThanBounds()
    {
        var text = PrometheusTextFormatter.Format([new MetricFamily("h_seconds", MetricType.Histogram, "",
            [new HistogramPoint([], [1, 2, 3], [5], 1)])]);

        Assert.Contains("h_seconds_bucket{le=\"3\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("h_seconds_bucket{le=\"+Inf\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("h_seconds_count 5\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void LabelValuesEscapeBackslashQuoteAndNewline()
    {
        var text = PrometheusTextFormatter.Format([new MetricFamily("m", MetricType.Gauge, "",
            [new ValuePoint([L("volume", "a\\b\"c\nd")], 1)])]);

        Assert.Contains("m{volume=\"a\\\\b\\\"c\\nd\"} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void HelpEscapesBackslashAndNewlineButNotQuotes()
    {
        Assert.Equal("a \\\\ \"b\"\\nc\\nd", PrometheusTextFormatter.EscapeHelp("a \\ \"b\"\nc\r\nd"));
    }

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0.1, "0.1")]
    [InlineData(0.00001, "1E-05")]
    [InlineData(1099511627776.0, "1099511627776")]
    [InlineData(-3.0, "-3")]
    public void ValuesUseTheSpellingsPrometheusParses(double value, string expected)
    {
        Assert.Equal(expected, PrometheusTextFormatter.FormatValue(value));
    }

    [Theory]
    [InlineData("s3block_io_requests_total", "s3block_io_requests_total")]
    [InlineData("System.Net.Http.requests", "System_Net_Http_requests")]
    [InlineData("kestrel-connections", "kestrel_connections")]
    [InlineData("1st_metric", "_1st_metric")]
    [InlineData("recorded:rule", "recorded_rule")]
    [InlineData("", "_")]
    public void MetricNamesAreSanitized(string name, string expected)
    {
        Assert.Equal(expected, PrometheusNames.SanitizeMetricName(name));
        Assert.Equal(name == expected, PrometheusNames.IsValidMetricName(name));
    }

    [Theory]
    [InlineData("op", "op")]
    [InlineData("http.method", "http_method")]
    [InlineData("__reserved", "_reserved")]
    [InlineData("9lives", "_9lives")]
    public void LabelNamesAreSanitized(string name, string expected)
    {
        Assert.Equal(expected, PrometheusNames.SanitizeLabelName(name));
    }

    [Fact]
    public void SanitizedNamesAreUsedInTheOutput()
    {
        var text = PrometheusTextFormatter.Format([new MetricFamily("a.b", MetricType.Counter, "h",
            [new ValuePoint([L("x-y", "1")], 1)])]);

        Assert.Equal("# HELP a_b h\n# TYPE a_b counter\na_b{x_y=\"1\"} 1\n", text);
    }

    [Fact]
    public void AHistogramTagNamedLeDoesNotCollideWithTheBucketBound()
    {
        var text = PrometheusTextFormatter.Format([new MetricFamily("h", MetricType.Histogram, "",
            [new HistogramPoint([L("le", "x")], [1], [1, 0], 1)])]);

        Assert.Contains("h_bucket{exported_le=\"x\",le=\"1\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("h_sum{exported_le=\"x\"} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheExporterMergesFamiliesByNameAndDropsDuplicatesConflictsAndEmptyFamilies()
    {
        MetricFamily[] families =
        [
            new("b_total", MetricType.Counter, "first", [new ValuePoint([L("k", "1")], 1)]),
            new("a", MetricType.Gauge, "", []),
            new("b_total", MetricType.Counter, "second", [new ValuePoint([L("k", "1")], 9), new ValuePoint([L("k", "2")], 2)]),
            new("b_total", MetricType.Gauge, "conflict", [new ValuePoint([L("k", "3")], 3)]),
            new("a_c", MetricType.Gauge, "", [new ValuePoint([], 5)]),
        ];

        var merged = PrometheusExporter.Merge(families).ToList();

        Assert.Equal(["a_c", "b_total"], merged.Select(f => f.Name));
        var b = merged[1];
        Assert.Equal("first", b.Help);
        Assert.Equal([1.0, 2.0], b.Points.Cast<ValuePoint>().Select(p => p.Value));
    }
}
