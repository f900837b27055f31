namespace Ublk.Server.Interop;

/// <summary>
/// Linux errno values (x86-64 and arm64 share them) that this project names explicitly.
/// Any other value still round-trips: the enum is just an <see cref="int"/>.
/// </summary>
public enum Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    EINVAL = 22,
    ENOSPC = 28,
    ENOSYS = 38,
    EOPNOTSUPP = 95,
    ETIMEDOUT = 110,
    ECANCELED = 125,

    /// <summary>The kernel-internal ENOTSUPP (524) that ublk on 6.1 returns for unknown commands.</summary>
    ENOTSUPP = 524,
}
