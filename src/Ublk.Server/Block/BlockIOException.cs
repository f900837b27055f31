namespace Ublk.Server.Block;

/// <summary>A block request failed with a specific errno (positive, e.g. 5 for EIO) that the device reports.</summary>
public sealed class BlockIOException : IOException
{
    /// <summary>EIO: generic I/O error.</summary>
    public const int EIO = 5;

    /// <summary>ENOSPC: no space (the journal cannot take more data).</summary>
    public const int ENOSPC = 28;

    /// <summary>EINVAL: a request outside the device or misaligned.</summary>
    public const int EINVAL = 22;

    /// <summary>ETIMEDOUT: the backing store did not answer in time.</summary>
    public const int ETIMEDOUT = 110;

    public BlockIOException(int errno, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(errno);
        Errno = errno;
    }

    /// <summary>The positive errno reported to the kernel (negated on the wire).</summary>
    public int Errno { get; }
}
