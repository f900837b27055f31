using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

/// <summary>The endpoint over real HTTP on loopback.</summary>
public sealed class MetricsServerTests
{
    private static readonly MetricsOptions AnyFreePort = new() { Port = 0 };

    [Fact]
    public async Task ServesMetricsInTheTextFormatOnABoundLoopbackPort()
    {
        using var sample = new SampleMetrics();
        await using var server = new MetricsServer(AnyFreePort, sample.Metrics);
        await server.StartAsync(TestContext.Current.CancellationToken);
        using var http = new HttpClient();

        using var response = await http.GetAsync(server.MetricsUrl, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.InRange(server.Port, 1, 65535);
        Assert.Equal(new Uri($"http://127.0.0.1:{server.Port}/metrics"), server.MetricsUrl);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Contains("s3block_build_info{version=\"1.2.3-test\"} 1\n", body, StringComparison.Ordinal);
        Assert.Contains("# TYPE process_cpu_seconds_total counter\n", body, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task ReflectsNewValuesOnEveryScrape()
    {
        using var sample = new SampleMetrics(populate: false, includeProcessMetrics: false);
        await using var server = new MetricsServer(AnyFreePort, sample.Metrics);
        await server.StartAsync(TestContext.Current.CancellationToken);
        using var http = new HttpClient();

        sample.Metrics.RecordIo(BlockOp.Read, 4096, 0.001, ok: true);
        var first = await http.GetStringAsync(server.MetricsUrl, TestContext.Current.CancellationToken);
        sample.Metrics.RecordIo(BlockOp.Read, 4096, 0.001, ok: true);
        var second = await http.GetStringAsync(server.MetricsUrl, TestContext.Current.CancellationToken);

        Assert.Contains("s3block_io_requests_total{op=\"read\",result=\"ok\"} 1\n", first, StringComparison.Ordinal);
        Assert.Contains("s3block_io_requests_total{op=\"read\",result=\"ok\"} 2\n", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppingClosesThePortAndIsIdempotent()
    {
        using var sample = new SampleMetrics(populate: false, includeProcessMetrics: false);
        var server = new MetricsServer(AnyFreePort, sample.Metrics);
        await server.StartAsync(TestContext.Current.CancellationToken);
        var port = server.Port;
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAsync(TestContext.Current.CancellationToken));

        await server.StopAsync(TestContext.Current.CancellationToken);
        await server.StopAsync(TestContext.Current.CancellationToken);
        await server.DisposeAsync();

        Assert.Equal(0, server.Port);
        using var client = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken).AsTask());
    }

    [Fact]
    public async Task APortInUseFailsTheStart()
    {
        using var sample = new SampleMetrics(populate: false, includeProcessMetrics: false);
        await using var first = new MetricsServer(AnyFreePort, sample.Metrics);
        await first.StartAsync(TestContext.Current.CancellationToken);
        await using var second = new MetricsServer(new MetricsOptions { Port = first.Port }, sample.Metrics);

        await Assert.ThrowsAsync<IOException>(() => second.StartAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, second.Port);
    }

    [Fact]
    public void InvalidOptionsAreRefusedWithTheKeyInTheMessage()
    {
        using var sample = new SampleMetrics(populate: false, includeProcessMetrics: false);

        var error = Assert.Throws<ArgumentException>(() => new MetricsServer(new MetricsOptions { Address = "nowhere" }, sample.Metrics));

        Assert.StartsWith("Metrics:Address:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunsAsAHostedServiceOfAGenericHost()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddS3BlockMetrics(new MetricsOptions { Port = 0 });
        using var host = builder.Build();
        var ct = TestContext.Current.CancellationToken;

        await host.StartAsync(ct);
        var server = host.Services.GetRequiredService<MetricsServer>();
        using var http = new HttpClient();
        var body = await http.GetStringAsync(server.MetricsUrl, ct);
        var port = server.Port;
        await host.StopAsync(ct);

        Assert.Contains("s3block_build_info{version=", body, StringComparison.Ordinal);
        Assert.Same(host.Services.GetRequiredService<S3BlockMetrics>(), host.Services.GetRequiredService<S3BlockMetrics>());
        using var client = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(IPAddress.Loopback, port, ct).AsTask());
    }

    [Fact]
    public void DisabledMetricsRegisterNoEndpoint()
    {
        var services = new ServiceCollection().AddS3BlockMetrics(new MetricsOptions { Enabled = false });
        using var provider = services.BuildServiceProvider();

        Assert.Null(provider.GetService<MetricsServer>());
        Assert.Empty(provider.GetServices<IHostedService>());
        Assert.NotNull(provider.GetService<S3BlockMetrics>());
    }
}
