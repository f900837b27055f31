namespace S3Block.Volume;

/// <summary>The volume cannot be opened or used as asked; the message says why in one sentence.</summary>
public class VolumeException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>Another writer holds the volume's lease.</summary>
public sealed class VolumeInUseException(string message) : VolumeException(message);

/// <summary>This writer lost the volume (lease taken over or commit chain fenced); it must stop writing.</summary>
public sealed class VolumeFencedException(string message, Exception? innerException = null) : VolumeException(message, innerException);
