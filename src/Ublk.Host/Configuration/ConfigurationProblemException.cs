namespace S3Block.Ublk.Configuration;

/// <summary>The configuration is wrong; the message is one line that names the key and the reason.</summary>
internal sealed class ConfigurationProblemException(string message) : Exception(message);
