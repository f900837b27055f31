using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// Serves <c>GET /metrics</c> with prometheus-net's middleware (text format 0.0.4, or OpenMetrics when the scraper
/// asks for it) on Kestrel, on <see cref="MetricsOptions.Address"/>:<see cref="MetricsOptions.Port"/>. An <see cref="IHostedService"/> for the
/// daemon; tests call <see cref="StartAsync"/> and <see cref="StopAsync"/> (or dispose) directly.
/// </summary>
/// <remarks>
/// Kestrel runs in its own minimal web host with no lifetime of its own: SIGTERM is the daemon's business, and
/// metrics must stay available while the daemon drains dirty data to S3 on shutdown. It is stopped by the daemon's
/// host like any hosted service (after the services registered later, as hosts stop in reverse order).
/// </remarks>
public sealed class MetricsServer : IHostedService, IAsyncDisposable
{
    private readonly MetricsOptions _options;
    private readonly S3BlockMetrics _metrics;
    private readonly ILogger _logger;
    private WebApplication? _app;

    /// <param name="options">Where to listen; must be valid (<see cref="MetricsOptions.Validate"/>).</param>
    /// <param name="metrics">The catalog whose registry a scrape returns.</param>
    /// <param name="logger">For the start and stop messages.</param>
    public MetricsServer(MetricsOptions options, S3BlockMetrics metrics, ILogger<MetricsServer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problem = options.Validate().FirstOrDefault();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        _options = options;
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The bound TCP port once started (the chosen one when configured as 0), else 0.</summary>
    public int Port { get; private set; }

    /// <summary>The scrape URL once started, e.g. <c>http://127.0.0.1:9464/metrics</c>.</summary>
    public Uri? MetricsUrl { get; private set; }

    /// <summary>Binds and starts listening; throws (e.g. <see cref="IOException"/>: address in use) if it cannot.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("the metrics endpoint is already started");
        }

        var address = IPAddress.Parse(_options.Address);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "s3block-metrics" });
        // No console lifetime (it would stop this host on SIGTERM, before the daemon's drain); no logging providers
        // (the daemon logs what matters about this endpoint itself).
        builder.Services.AddSingleton<IHostLifetime, NoHostLifetime>();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, _options.Port);
        });

        var app = builder.Build();
        app.UseMetricServer("/metrics", _metrics.Registry);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        _app = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Port = new Uri(bound).Port;
        MetricsUrl = new Uri($"http://{FormatHost(address)}:{Port}/metrics");
        MetricsLog.Listening(_logger, MetricsUrl);
    }

    /// <summary>Stops listening (waits for scrapes in progress until <paramref name="cancellationToken"/> fires).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var app = Interlocked.Exchange(ref _app, null);
        if (app is null)
        {
            return;
        }

        try
        {
            await app.StopAsync(cancellationToken);
        }
        finally
        {
            await app.DisposeAsync();
            Port = 0;
            MetricsLog.Stopped(_logger);
        }
    }

    /// <summary>Stops if started.</summary>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    private static string FormatHost(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    /// <summary>A host lifetime that neither waits for nor reacts to anything (see the class remarks).</summary>
    private sealed class NoHostLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
