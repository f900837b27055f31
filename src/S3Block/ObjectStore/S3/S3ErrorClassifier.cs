using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace S3Block.ObjectStore.S3;

/// <summary>Turns whatever the AWS SDK threw into an <see cref="ObjectStoreException"/> with the right kind.</summary>
internal static class S3ErrorClassifier
{
    public static ObjectStoreException Classify(Exception exception, string operation, string key, bool conditionalPut)
    {
        if (exception is AmazonServiceException service && service.StatusCode != 0)
        {
            var kind = ClassifyStatus(service.StatusCode, service.ErrorCode, conditionalPut);
            var message = string.IsNullOrEmpty(service.Message) ? $"HTTP {(int)service.StatusCode}" : service.Message;
            return new ObjectStoreException(kind, operation, key, $"{message} ({service.ErrorCode ?? "no code"}, HTTP {(int)service.StatusCode})", exception)
            {
                ErrorCode = service.ErrorCode,
            };
        }

        if (IsNetworkFailure(exception))
        {
            return new ObjectStoreException(ObjectStoreErrorKind.Transient, operation, key, $"cannot reach the store: {Innermost(exception).Message}", exception)
            {
                ErrorCode = "NetworkError",
            };
        }

        // Client-side failures with no HTTP answer: missing credentials, bad configuration.
        var noCredentials = exception.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase);
        var summary = noCredentials ? "no AWS credentials found (environment, profile or instance role)" : Innermost(exception).Message;
        return new ObjectStoreException(ObjectStoreErrorKind.Permanent, operation, key, summary, exception)
        {
            ErrorCode = noCredentials ? "NoCredentials" : exception.GetType().Name,
        };
    }

    public static ObjectStoreErrorKind ClassifyStatus(HttpStatusCode status, string? code, bool conditionalPut) => (int)status switch
    {
        404 when code == "NoSuchBucket" => ObjectStoreErrorKind.Permanent,
        404 => ObjectStoreErrorKind.NotFound,
        412 => ObjectStoreErrorKind.PreconditionFailed,
        409 when code == "ConditionalRequestConflict" => ObjectStoreErrorKind.PreconditionFailed,
        416 => ObjectStoreErrorKind.InvalidRange,
        // RadosGW answers some losers of a conditional-PUT race with 500 UnknownError (s3-servers.md quirk 4).
        500 when conditionalPut => ObjectStoreErrorKind.PreconditionFailed,
        429 or 408 => ObjectStoreErrorKind.Transient,
        400 when code is "RequestTimeout" or "SlowDown" => ObjectStoreErrorKind.Transient,
        // A 400 without an S3 error body (the SDK then reports the status text as the code) is no S3 verdict on the
        // request: RadosGW's frontend answers so when a reused keep-alive connection got out of step. Retried.
        400 when code is null or "" or "BadRequest" => ObjectStoreErrorKind.Transient,
        403 when code is "ExpiredToken" or "RequestTimeTooSkewed" => ObjectStoreErrorKind.Transient,
        >= 500 => ObjectStoreErrorKind.Transient,
        _ => ObjectStoreErrorKind.Permanent,
    };

    private static bool IsNetworkFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            // The last case: .NET's HTTP connection throws ArgumentOutOfRangeException while parsing a garbled status
            // line (seen with RadosGW 16 reusing a keep-alive connection); a fresh connection succeeds.
            if (e is HttpRequestException or SocketException or IOException or TimeoutException or TaskCanceledException
                || e.StackTrace?.Contains("System.Net.Http.HttpConnection.", StringComparison.Ordinal) == true)
            {
                return true;
            }
        }

        return false;
    }

    private static Exception Innermost(Exception exception)
    {
        var e = exception;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
