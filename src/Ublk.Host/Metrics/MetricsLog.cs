using Microsoft.Extensions.Logging;

namespace S3Block.Ublk.Metrics;

/// <summary>Log messages of the metrics endpoint.</summary>
internal static partial class MetricsLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Metrics: serving Prometheus metrics on {Url}")]
    public static partial void Listening(ILogger logger, Uri url);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Metrics: endpoint stopped")]
    public static partial void Stopped(ILogger logger);
}
