using System.Diagnostics;
using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Tests.Systemd;

/// <summary>
/// Our sd_notify messages through Microsoft.Extensions.Hosting.Systemd's notifier, against a real bound unix datagram
/// socket, by path and in the abstract namespace.
/// </summary>
public sealed class SystemdNotificationsTests
{
    public static TheoryData<bool> SocketKinds => new() { false, true };

    [Theory]
    [MemberData(nameof(SocketKinds))]
    public async Task SendsTheExactDatagrams(bool abstractSocket)
    {
        using NotifySocketListener listener = Listen(abstractSocket);
        var notifier = listener.CreateNotifications();
        Assert.True(notifier.IsEnabled);

        Assert.True(notifier.Status("flushing: 123 MiB left"));
        Assert.Equal("STATUS=flushing: 123 MiB left", await listener.ExpectAsync());

        Assert.True(notifier.Watchdog());
        Assert.Equal("WATCHDOG=1", await listener.ExpectAsync());

        Assert.True(notifier.ExtendTimeout(TimeSpan.FromSeconds(20)));
        Assert.Equal("EXTEND_TIMEOUT_USEC=20000000", await listener.ExpectAsync());

        Assert.True(notifier.ExtendTimeout(TimeSpan.FromMilliseconds(1.5), "flushing"));
        Assert.Equal("EXTEND_TIMEOUT_USEC=1500\nSTATUS=flushing", await listener.ExpectAsync());

        Assert.True(notifier.Notify("ERRNO=5\nSTATUS=x"));
        Assert.Equal("ERRNO=5\nSTATUS=x", await listener.ExpectAsync());

        Assert.Equal(5, notifier.SentCount);
        Assert.Equal(0, notifier.FailureCount);
    }

    [Fact]
    public async Task StatusStaysOnOneLineSoItCannotSmuggleAnotherAssignment()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var notifier = listener.CreateNotifications();

        notifier.Status("S3 said:\nREADY=1\r\nbye");
        Assert.Equal("STATUS=S3 said: READY=1 bye", await listener.ExpectAsync());
    }

    [Fact]
    public void WithoutNotifySocketEverythingIsANoOp()
    {
        var notifier = new SystemdNotifications(NotifySocketListener.PackageNotifier(null));

        Assert.False(notifier.IsEnabled);
        Assert.False(notifier.Status("x"));
        Assert.False(notifier.Watchdog());
        Assert.False(notifier.ExtendTimeout(TimeSpan.FromSeconds(1)));
        Assert.Equal(0, notifier.FailureCount);
    }

    [Fact]
    public void ASocketNobodyListensOnFailsQuietlyAndIsLoggedOnce()
    {
        string folder = Directory.CreateTempSubdirectory("s3block-notify-").FullName;
        try
        {
            var logger = new ListLogger<SystemdNotifications>();
            var notifier = new SystemdNotifications(NotifySocketListener.PackageNotifier(Path.Combine(folder, "gone.sock")), logger);
            Assert.True(notifier.IsEnabled);

            Assert.False(notifier.Status("still here"));
            Assert.False(notifier.Watchdog());
            Assert.False(notifier.ExtendTimeout(TimeSpan.FromSeconds(1)));

            Assert.Equal(3, notifier.FailureCount);
            Assert.Single(logger.Messages);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task AfterTheListenerComesBackSendingWorksAgain()
    {
        using NotifySocketListener first = NotifySocketListener.BindAbstract();
        string address = first.Address;
        var notifier = first.CreateNotifications();
        first.Dispose();
        Assert.False(notifier.Watchdog());

        using NotifySocketListener again = NotifySocketListener.BindAbstractAt(address);
        Assert.True(notifier.Watchdog());
        Assert.Equal("WATCHDOG=1", await again.ExpectAsync());
    }

    /// <summary>
    /// systemd's own sender (systemd-notify) reaches the same listeners, so the test sockets — and with them the
    /// notifier — use the addressing systemd uses, including the abstract namespace.
    /// </summary>
    [Theory]
    [MemberData(nameof(SocketKinds))]
    public async Task TheListenerReceivesWhatSystemdsOwnSystemdNotifySends(bool abstractSocket)
    {
        string tool = SystemdTools.Require("systemd-notify");
        // --no-block: otherwise systemd-notify waits for a barrier reply that only a real service manager sends.
        using NotifySocketListener listener = Listen(abstractSocket);

        var start = new ProcessStartInfo(tool) { ArgumentList = { "--no-block", "--ready", "--status=hello from systemd-notify" } };
        start.Environment["NOTIFY_SOCKET"] = listener.Address;
        using Process process = Process.Start(start)!;
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(0, process.ExitCode);
        Assert.Equal("READY=1\nSTATUS=hello from systemd-notify", await listener.ExpectAsync());
    }

    private static NotifySocketListener Listen(bool abstractSocket) =>
        abstractSocket ? NotifySocketListener.BindAbstract() : NotifySocketListener.BindPath();
}
