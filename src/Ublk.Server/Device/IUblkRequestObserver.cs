using Ublk.Server.Interop;

namespace Ublk.Server.Device;

/// <summary>How a block request ended.</summary>
public enum UblkRequestOutcome
{
    /// <summary>Completed successfully.</summary>
    Ok,

    /// <summary>The backend failed it (committed with a negative errno).</summary>
    Failed,

    /// <summary>Refused before the backend: unknown op, outside the device, larger than the buffer.</summary>
    Rejected,
}

/// <summary>
/// Told about every finished block request (e.g. to feed metrics). Called on the queue thread just before the
/// COMMIT: it must be quick, must not allocate per call if it can help it, and must never block or throw (an
/// exception there ends the process, like any queue-loop failure).
/// </summary>
public interface IUblkRequestObserver
{
    /// <param name="op">READ, WRITE, FLUSH, DISCARD or WRITE_ZEROES (anything else arrives as Rejected).</param>
    /// <param name="bytes">Bytes the request covered (0 for FLUSH).</param>
    /// <param name="elapsed">From the queue taking the request to its completion.</param>
    /// <param name="outcome">How it ended.</param>
    void RequestCompleted(UblkIoOp op, long bytes, TimeSpan elapsed, UblkRequestOutcome outcome);
}
