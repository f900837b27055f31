using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace S3Block.Ublk.Metrics;

/// <summary>Registers the metrics pieces with a Generic Host.</summary>
public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="S3BlockMetrics"/> as a singleton and, when
    /// <see cref="MetricsOptions.Enabled"/>, <see cref="MetricsServer"/> as a singleton hosted service. Register it
    /// early: hosts stop services in reverse order, so the endpoint then outlives the device and volume shutdown.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="options">The endpoint's options (validate them first: <see cref="MetricsOptions.Validate"/>).</param>
    /// <param name="version">The version <c>s3block_build_info</c> reports; default: the assembly's informational version.</param>
    public static IServiceCollection AddS3BlockMetrics(this IServiceCollection services, MetricsOptions options, string? version = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        services.AddSingleton(_ => new S3BlockMetrics(version));
        if (options.Enabled)
        {
            services.AddSingleton(provider => new MetricsServer(
                options,
                provider.GetRequiredService<S3BlockMetrics>(),
                provider.GetService<ILogger<MetricsServer>>()));
            services.AddHostedService(provider => provider.GetRequiredService<MetricsServer>());
        }

        return services;
    }
}
