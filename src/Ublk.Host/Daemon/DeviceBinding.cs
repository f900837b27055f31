namespace S3Block.Ublk.Daemon;

/// <summary>What ties a ublk device on this host to a volume, as <c>s3block list</c> shows it.</summary>
internal enum DeviceBinding
{
    /// <summary>Unknown owner (the kernel could not be asked) and no record of this boot names it.</summary>
    None,

    /// <summary>The device carries the owner tag of a volume's device record in the state directory.</summary>
    Bound,

    /// <summary>A record of this boot names it, but the kernel could not be asked for its owner tag (not root).</summary>
    RecordOnly,

    /// <summary>An S3Block owner tag that no record here has: a binding given up (journal lost, another node wrote
    /// the volume since), or a daemon with another state directory.</summary>
    UnclaimedS3Block,

    /// <summary>Not made by S3Block (another ublk server, or S3Block before device binding).</summary>
    NotS3Block,
}
