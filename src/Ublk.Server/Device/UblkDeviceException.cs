namespace Ublk.Server.Device;

/// <summary>A ublk device could not be created, recovered, stopped or deleted; the message says why and what to do.</summary>
public sealed class UblkDeviceException : Exception
{
    public UblkDeviceException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
