namespace S3Block.Ublk.Cli;

/// <summary>Process exit codes, stable for scripts and systemd.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The operation failed (store error, I/O error, verification failure).</summary>
    public const int Failure = 1;

    /// <summary>The configuration or command line is wrong; nothing was touched.</summary>
    public const int ConfigurationError = 2;

    /// <summary>A stop (SIGTERM) found the device in use and left it attached for the next daemon: everything is in S3,
    /// but the device still exists, and its I/O fails after Daemon:RecoveryDeadline unless a daemon re-attaches it.</summary>
    public const int DeviceLeftAttached = 3;

    /// <summary>Interrupted by SIGINT/SIGTERM.</summary>
    public const int Cancelled = 130;
}
