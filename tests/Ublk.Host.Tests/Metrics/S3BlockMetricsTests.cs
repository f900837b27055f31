using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;
using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

public sealed class S3BlockMetricsTests
{
    /// <summary>The names the dashboard, the alerts and the issue ask for; renaming one is a breaking change.</summary>
    public static readonly string[] RequiredNames =
    [
        "s3block_io_requests_total", "s3block_io_bytes_total", "s3block_io_duration_seconds", "s3block_io_inflight",
        "s3block_cache_hits_total", "s3block_cache_misses_total", "s3block_cache_evictions_total", "s3block_cache_bytes",
        "s3block_journal_bytes", "s3block_journal_capacity_bytes", "s3block_journal_fill_ratio",
        "s3block_journal_appended_records_total", "s3block_journal_appended_payload_bytes_total",
        "s3block_journal_delayed_appends_total", "s3block_dirty_bytes", "s3block_dirty_oldest_age_seconds",
        "s3block_s3_requests_total", "s3block_s3_request_duration_seconds", "s3block_s3_retries_total",
        "s3block_commits_published_total", "s3block_last_commit_number", "s3block_commit_lag_seconds",
        "s3block_uploaded_bytes_total", "s3block_fetched_bytes_total", "s3block_lease_held", "s3block_lease_epoch",
        "s3block_io_flusher_failures_total", "s3block_build_info", "s3block_device_info",
    ];

    [Fact]
    public void EveryExportedMetricFollowsTheNamingConventionAndTheRequiredNamesAreThere()
    {
        using var sample = new SampleMetrics(includeProcessMetrics: false);
        var text = sample.Scrape();
        var families = text.Split('\n')
            .Where(line => line.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[2], parts => parts[3], StringComparer.Ordinal);
        Assert.True(families.Count > 50, $"only {families.Count} metrics");

        foreach (var (name, type) in families)
        {
            Assert.True(name.StartsWith("s3block_", StringComparison.Ordinal), name);
            Assert.Matches("^[a-z_][a-z0-9_]*$", name);
            Assert.True((type == "counter") == name.EndsWith("_total", StringComparison.Ordinal), $"{name}: counters and only counters end in _total");
            Assert.Contains($"# HELP {name} ", text, StringComparison.Ordinal);
            var help = text.Split('\n').Single(line => line.StartsWith($"# HELP {name} ", StringComparison.Ordinal));
            Assert.True(help.Length > $"# HELP {name} ".Length + 5, $"{name}: no help text");
        }

        var missing = RequiredNames.Append(JournalInstruments.FsyncHistogramName).Where(n => !families.ContainsKey(n)).ToList();
        Assert.True(missing.Count == 0, $"missing from the scrape: {string.Join(", ", missing)}");
        Assert.Equal("histogram", families["s3block_io_duration_seconds"]);
        Assert.Equal("histogram", families["s3block_s3_request_duration_seconds"]);
        Assert.Equal("histogram", families[JournalInstruments.FsyncHistogramName]);
    }

    [Fact]
    public void TheMetricsReadmeListsEveryExportedMetric()
    {
        using var sample = new SampleMetrics();
        var readme = File.ReadAllText(Path.Combine(MetricsTools.RepoRoot, "src", "Ublk.Host", "Metrics", "README.md"));
        var exported = sample.Scrape().Split('\n')
            .Where(line => line.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(line => line.Split(' ')[2]);

        var missing = exported.Where(name => !readme.Contains($"`{name}", StringComparison.Ordinal)).ToList();

        Assert.True(missing.Count == 0, $"src/Ublk.Host/Metrics/README.md does not list: {string.Join(", ", missing)}");
    }

    [Fact]
    public void S3RetriesArePublishedAtZeroForEveryOperationBeforeTheFirstRetry()
    {
        using var sample = new SampleMetrics(populate: false, includeProcessMetrics: false);

        var text = sample.Scrape();

        foreach (var operation in new[] { "GetObject", "HeadObject", "PutObject", "DeleteObject", "DeleteObjects", "ListObjectsV2" })
        {
            Assert.Contains($"s3block_s3_retries_total{{operation=\"{operation}\"}} 0\n", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RecordIoCountsRequestsByOpAndResultAndBytesOnlyForSuccess()
    {
        using var sample = new SampleMetrics(populate: false, includeProcessMetrics: false);
        sample.Metrics.RecordIo(BlockOp.Write, 8192, 0.0005, ok: true);
        sample.Metrics.RecordIo(BlockOp.Write, 4096, 0.0005, IoResult.Ok);
        sample.Metrics.RecordIo(BlockOp.Write, 4096, 0.2, ok: false);
        sample.Metrics.RecordIo(BlockOp.WriteZeroes, 1 << 20, 0.001, IoResult.Rejected);

        var text = sample.Scrape();

        Assert.Contains("s3block_io_requests_total{op=\"write\",result=\"ok\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_io_requests_total{op=\"write\",result=\"error\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_io_requests_total{op=\"write_zeroes\",result=\"rejected\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_io_bytes_total{op=\"write\"} 12288\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3block_io_bytes_total{op=\"write_zeroes\"}", text, StringComparison.Ordinal);
        Assert.Contains("s3block_io_duration_seconds_bucket{op=\"write\",result=\"ok\",le=\"0.0008\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_io_duration_seconds_count{op=\"write\",result=\"error\"} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordingOnTheHotPathDoesNotAllocate()
    {
        using var metrics = new S3BlockMetrics(includeProcessMetrics: false);
        BlockOp[] ops = [.. BlockOpLabels.All];

        void RecordAll()
        {
            for (var i = 0; i < ops.Length; i++)
            {
                metrics.RecordIo(ops[i], 4096, 0.001, IoResult.Ok);
            }

            metrics.RecordIo(BlockOp.Write, 4096, 0.001, ok: false);
            metrics.RecordS3Request(S3Operation.Put, S3Outcome.Ok, 0.01, bytesSent: 100);
            metrics.RecordS3Request(S3Operation.Get, S3Outcome.TransientError, 0.01);
            metrics.RecordS3Retry(S3Operation.Get);
        }

        // Warm-up and runs: (3 + 5) × 1000 calls; the smallest run must allocate nothing (see SteadyStateAllocation).
        Assert.Equal(0, SteadyStateAllocation.MinimumBytes(RecordAll));
        Assert.Contains("s3block_io_requests_total{op=\"read\",result=\"ok\"} 8000\n", await metrics.ScrapeAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public void TheSteadyStateMeterSeesAnAllocationPerCall()
    {
        // The meter the test above relies on: one object per call must show in every run, so in the minimum too.
        var bytes = SteadyStateAllocation.MinimumBytes(() => Sink = new object());

        Assert.True(bytes >= 1000 * IntPtr.Size, $"{bytes} bytes for 1000 objects");
    }

    [Fact]
    public void ASnapshotDelegateIsCalledOncePerScrapeNotOncePerInstrument()
    {
        var time = new ManualTime(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        using var sample = new SampleMetrics(populate: false, time: time, includeProcessMetrics: false);
        var calls = 0;
        sample.Metrics.RegisterVolume(() =>
        {
            calls++;
            return SampleMetrics.Volume;
        });
        var journalCalls = 0;
        sample.Metrics.RegisterJournal(() =>
        {
            journalCalls++;
            return SampleMetrics.Journal;
        });

        sample.Scrape();
        Assert.Equal(1, calls);
        Assert.Equal(1, journalCalls);

        time.Advance(TimeSpan.FromSeconds(1));
        var text = sample.Scrape();

        Assert.Equal(2, calls);
        Assert.Equal(2, journalCalls);
        Assert.Contains("s3block_dirty_bytes 12582912\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ANullSnapshotOrNoRegistrationLeavesTheSeriesOutAndRegisteringAgainReplaces()
    {
        var time = new ManualTime(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        using var sample = new SampleMetrics(populate: false, time: time, includeProcessMetrics: false);
        Assert.DoesNotContain("\ns3block_dirty_bytes ", sample.Scrape(), StringComparison.Ordinal);

        sample.Metrics.RegisterVolume(() => null);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.DoesNotContain("\ns3block_dirty_bytes ", sample.Scrape(), StringComparison.Ordinal);

        sample.Metrics.RegisterVolume(() => new VolumeSnapshot { DirtyBytes = 5 });
        Assert.Contains("s3block_dirty_bytes 5\n", sample.Scrape(), StringComparison.Ordinal);
    }

    [Fact]
    public void EverySnapshotFieldReachesItsMetric()
    {
        using var sample = new SampleMetrics(includeProcessMetrics: false);
        var text = sample.Scrape();

        string[] expected =
        [
            "s3block_dirty_oldest_age_seconds 4.5", "s3block_last_commit_timestamp_seconds 1700000000.25",
            "s3block_uploaded_bytes_total 419430400", "s3block_volume_retries_total 1", "s3block_garbage_pending_objects 4",
            "s3block_volume_faulted 0", "s3block_journal_fill_ratio 0.25", "s3block_journal_full_waits_total 1",
            "s3block_journal_append_delay_seconds_total 0.5", "s3block_journal_segments 4",
            "s3block_cache_hits_total{tier=\"ram\"} 80", "s3block_cache_hits_total{tier=\"disk\"} 15",
            "s3block_cache_capacity_bytes{tier=\"disk\"} 10737418240", "s3block_cache_misses_total 5",
            "s3block_lease_held 1", "s3block_lease_epoch 7", "s3block_lease_expiry_timestamp_seconds 1700000030",
            "s3block_io_inflight{queue=\"0\"} 3", "s3block_io_queue_depth{queue=\"1\"} 128",
            "s3block_device_info{chunk_bytes=\"4194304\",dev_id=\"3\",volume=\"vol\\\"1\"} 1",
            "s3block_device_size_bytes 1099511627776", "s3block_io_flusher_failures_total 0",
            "s3block_build_info{version=\"1.2.3-test\"} 1",
            "s3block_journal_fsync_duration_seconds_bucket{le=\"0.002\"} 40", "s3block_journal_fsync_duration_seconds_count 50",
            "s3block_journal_fsync_duration_seconds_sum 0.25",
            "s3block_s3_requests_total{operation=\"GetObject\",outcome=\"transient_error\"} 1",
            "s3block_s3_bytes_total{direction=\"upload\"} 4194304", "s3block_s3_retries_total{operation=\"GetObject\"} 1",
        ];
        AssertLines(expected, text);
    }

    [Theory]
    [InlineData(0L, 100.0, null, 0.0)] // clean: no lag, whatever the ages
    [InlineData(1L, 7.0, null, 7.0)] // dirty, never committed: as old as the oldest dirty write
    [InlineData(1L, 30.0, 3.0, 3.0)] // dirty, committed 3 s ago: 3 s
    [InlineData(1L, 2.0, 3600.0, 2.0)] // first write after an idle hour: 2 s, not an hour
    public void CommitLagCountsSecondsWithoutACommitWhileDirty(long dirtyBytes, double oldestAge, double? secondsSinceCommit, double expected)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var instruments = new VolumeInstruments(Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry()), new ManualTime(now));
        var snapshot = new VolumeSnapshot
        {
            DirtyBytes = dirtyBytes,
            OldestDirtyAgeSeconds = oldestAge,
            LastCommitUnixSeconds = secondsSinceCommit is { } s ? now.ToUnixTimeSeconds() - s : null,
        };

        Assert.Equal(expected, instruments.CommitLag(snapshot), 9);
    }

    [Fact]
    public void RetriesFromTheRetryingStoreCallbackAreCountedByOperation()
    {
        using var sample = new SampleMetrics(populate: false, includeProcessMetrics: false);
        var error = new ObjectStoreException(ObjectStoreErrorKind.Transient, "PUT", "k", "503");
        Action<string, ObjectStoreException> onRetry = sample.Metrics.RecordS3Retry;

        onRetry("PUT", error);
        onRetry("PUT", error);
        onRetry("SOMETHING-NEW", error);

        var text = sample.Scrape();
        Assert.Contains("s3block_s3_retries_total{operation=\"PutObject\"} 2\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SOMETHING", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheMeteredStoreRecordsEachCallWithItsOutcomeAndBytes()
    {
        var folder = Directory.CreateTempSubdirectory("s3block-metrics-store-").FullName;
        try
        {
            using var sample = new SampleMetrics(populate: false, includeProcessMetrics: false);
            using var store = new MeteredObjectStore(new LocalDirectoryObjectStore(folder), sample.Metrics);
            var ct = TestContext.Current.CancellationToken;

            await store.PutAsync("a", new byte[1000], PutCondition.None, ct);
            var content = await store.GetAsync("a", null, ct);
            await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("missing", ct));
            await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("a", new byte[1], PutCondition.CreateOnly, ct));
            await store.ListPageAsync("", null, 10, ct);
            await store.DeleteAsync("a", ct);

            var text = sample.Scrape();
            Assert.Equal(1000, content.Data.Length);
            string[] expected =
            [
                "s3block_s3_requests_total{operation=\"PutObject\",outcome=\"ok\"} 1",
                "s3block_s3_requests_total{operation=\"PutObject\",outcome=\"precondition_failed\"} 1",
                "s3block_s3_requests_total{operation=\"GetObject\",outcome=\"ok\"} 1",
                "s3block_s3_requests_total{operation=\"HeadObject\",outcome=\"not_found\"} 1",
                "s3block_s3_requests_total{operation=\"ListObjectsV2\",outcome=\"ok\"} 1",
                "s3block_s3_requests_total{operation=\"DeleteObject\",outcome=\"ok\"} 1",
                "s3block_s3_bytes_total{direction=\"upload\"} 1000",
                "s3block_s3_bytes_total{direction=\"download\"} 1000",
                "s3block_s3_request_duration_seconds_count{operation=\"PutObject\"} 2",
            ];
            AssertLines(expected, text);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(ObjectStoreErrorKind.NotFound, "not_found")]
    [InlineData(ObjectStoreErrorKind.PreconditionFailed, "precondition_failed")]
    [InlineData(ObjectStoreErrorKind.InvalidRange, "invalid_range")]
    [InlineData(ObjectStoreErrorKind.Transient, "transient_error")]
    [InlineData(ObjectStoreErrorKind.Permanent, "permanent_error")]
    public void StoreErrorsMapToOutcomes(ObjectStoreErrorKind kind, string outcome)
    {
        Assert.Equal(outcome, S3OutcomeLabels.FromException(new ObjectStoreException(kind, "GET", "k", "x")).ToLabel());
        Assert.Equal("canceled", S3OutcomeLabels.FromException(new OperationCanceledException()).ToLabel());
        Assert.Equal("error", S3OutcomeLabels.FromException(new InvalidOperationException()).ToLabel());
    }

    [Fact]
    public async Task TheDefaultVersionIsTheAssemblyVersion()
    {
        using var metrics = new S3BlockMetrics(includeProcessMetrics: false);

        Assert.False(string.IsNullOrWhiteSpace(metrics.Version));
        Assert.Contains($"s3block_build_info{{version=\"{metrics.Version}\"}} 1\n",
            await metrics.ScrapeAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    private static void AssertLines(IEnumerable<string> expected, string text)
    {
        var missing = expected.Where(line => !text.Contains(line + "\n", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"lines missing from the scrape:\n{string.Join('\n', missing)}\n--- scrape ---\n{text}");
    }

    private static object? Sink { get; set; }
}
