namespace S3Block.Volume;

/// <summary>The volume cannot be opened or used as asked; the message says why in one sentence.</summary>
public class VolumeException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>Another writer holds the volume's lease.</summary>
public class VolumeInUseException(string message) : VolumeException(message);

/// <summary>The volume's last holder let its lease expire (or released it) while it may hold flushed data that is not
/// in S3; taking over without force would silently discard that data.</summary>
public sealed class VolumeHoldsUnsyncedDataException(string message, LeaseRecord holder) : VolumeInUseException(message)
{
    /// <summary>The lease as its holder last wrote it.</summary>
    public LeaseRecord Holder { get; } = holder;
}

/// <summary>This writer lost the volume (lease taken over or commit chain fenced); it must stop writing.</summary>
public sealed class VolumeFencedException(string message, Exception? innerException = null) : VolumeException(message, innerException);
