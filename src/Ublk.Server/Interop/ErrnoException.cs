using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Ublk.Server.Interop;

/// <summary>A system call (or a kernel command answered through io_uring) failed with an errno.</summary>
public sealed class ErrnoException : IOException
{
    public ErrnoException(Errno errno, string call)
        : base(FormatMessage(errno, call))
    {
        Errno = errno;
        Call = call;
        HResult = (int)errno;
    }

    /// <summary>The positive errno.</summary>
    public Errno Errno { get; }

    /// <summary>What failed, e.g. <c>io_uring_setup</c> or <c>UBLK_CMD_ADD_DEV(dev 3)</c>.</summary>
    public string Call { get; }

    /// <summary>Throws for the errno the last <c>SetLastError = true</c> P/Invoke left behind.</summary>
    [DoesNotReturn]
    public static void ThrowLast(string call) => throw FromLast(call);

    /// <summary>Builds the exception for the errno the last <c>SetLastError = true</c> P/Invoke left behind.</summary>
    public static ErrnoException FromLast(string call) => new((Errno)Marshal.GetLastPInvokeError(), call);

    /// <summary>Throws for a kernel-style negative result (<c>-errno</c>), e.g. a CQE's <c>res</c>.</summary>
    [DoesNotReturn]
    public static void ThrowNegative(int negativeErrno, string call) => throw new ErrnoException((Errno)(-negativeErrno), call);

    /// <summary>The libc description of an errno (strerror).</summary>
    public static string Describe(Errno errno) => Marshal.GetPInvokeErrorMessage((int)errno);

    private static string FormatMessage(Errno errno, string call)
    {
        string name = Enum.IsDefined(errno) ? errno.ToString() : "errno " + (int)errno;
        return $"{call} failed: {name} ({(int)errno}): {Describe(errno)}";
    }
}
