using S3Block.ObjectStore;

namespace S3Block.Ublk.Metrics;

/// <summary>How an object-store request ended, the <c>outcome</c> label of <c>s3block_s3_requests_total</c>.</summary>
/// <remarks><see cref="NotFound"/> and <see cref="PreconditionFailed"/> are answers the volume expects (probing, lost
/// compare-and-swap), not errors; alerts look at <c>transient_error|permanent_error|error</c>.</remarks>
public enum S3Outcome
{
    /// <summary><c>outcome="ok"</c>.</summary>
    Ok,

    /// <summary><c>outcome="not_found"</c>.</summary>
    NotFound,

    /// <summary><c>outcome="precondition_failed"</c>: a conditional write lost.</summary>
    PreconditionFailed,

    /// <summary><c>outcome="invalid_range"</c>.</summary>
    InvalidRange,

    /// <summary><c>outcome="transient_error"</c>: 5xx, throttling, timeouts, connection failures.</summary>
    TransientError,

    /// <summary><c>outcome="permanent_error"</c>: credentials, missing bucket, invalid request.</summary>
    PermanentError,

    /// <summary><c>outcome="canceled"</c>: the caller gave up (shutdown).</summary>
    Canceled,

    /// <summary><c>outcome="error"</c>: any other exception (a bug or an unclassified failure).</summary>
    Error,
}

/// <summary>Label values of <see cref="S3Outcome"/>, and the outcome of an exception.</summary>
public static class S3OutcomeLabels
{
    /// <summary>Every outcome, in enum order.</summary>
    public static IReadOnlyList<S3Outcome> All { get; } = Enum.GetValues<S3Outcome>();

    /// <summary>The <c>outcome</c> label value.</summary>
    public static string ToLabel(this S3Outcome outcome) => outcome switch
    {
        S3Outcome.Ok => "ok",
        S3Outcome.NotFound => "not_found",
        S3Outcome.PreconditionFailed => "precondition_failed",
        S3Outcome.InvalidRange => "invalid_range",
        S3Outcome.TransientError => "transient_error",
        S3Outcome.PermanentError => "permanent_error",
        S3Outcome.Canceled => "canceled",
        S3Outcome.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };

    /// <summary>The outcome a failed object-store call reports.</summary>
    public static S3Outcome FromException(Exception error) => error switch
    {
        ObjectStoreException e => e.Kind switch
        {
            ObjectStoreErrorKind.NotFound => S3Outcome.NotFound,
            ObjectStoreErrorKind.PreconditionFailed => S3Outcome.PreconditionFailed,
            ObjectStoreErrorKind.InvalidRange => S3Outcome.InvalidRange,
            ObjectStoreErrorKind.Transient => S3Outcome.TransientError,
            ObjectStoreErrorKind.Permanent => S3Outcome.PermanentError,
            _ => S3Outcome.Error,
        },
        OperationCanceledException => S3Outcome.Canceled,
        _ => S3Outcome.Error,
    };
}
