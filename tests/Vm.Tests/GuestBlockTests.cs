using System.Globalization;

namespace S3Block.Tests.Vm;

/// <summary>The block-layer tools later ublk tests rely on work in the guest, on a kernel loop device.</summary>
public sealed class GuestBlockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Log(string text) => TestContext.Current.TestOutputHelper?.WriteLine(text);

    [Fact]
    public async Task Loop_device_over_a_tmpfs_file_takes_ext4_and_xfs()
    {
        var run = await GuestVm.RunAsync(
            """
            set -euo pipefail
            truncate -s 512M /tmp/disk.img
            dev=$(losetup --find --show /tmp/disk.img)
            mkdir -p /mnt/fs
            for fs in ext4 xfs; do
              if [ "$fs" = ext4 ]; then mkfs.ext4 -q -F "$dev"; else mkfs.xfs -q -f "$dev"; fi
              mount -t "$fs" "$dev" /mnt/fs
              echo "hello $fs" > /mnt/fs/file
              umount /mnt/fs
              mount -t "$fs" -o ro "$dev" /mnt/fs
              cat /mnt/fs/file
              umount /mnt/fs
            done
            losetup -d "$dev"
            """,
            TimeSpan.FromMinutes(4), cancellationToken: Ct);
        Log(run.Describe());

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.Contains("hello ext4\n", run.Output, StringComparison.Ordinal);
        Assert.Contains("hello xfs\n", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fio_runs_io_uring_direct_io_on_a_loop_device()
    {
        var run = await GuestVm.RunAsync(
            """
            set -euo pipefail
            truncate -s 256M /tmp/disk.img
            dev=$(losetup --find --show --direct-io=on /tmp/disk.img)
            fio --name=smoke --filename="$dev" --rw=randread --bs=4k --iodepth=32 --ioengine=io_uring \
                --direct=1 --runtime=3 --time_based --output-format=terse --terse-version=3 \
              | cut -d';' -f8 | sed 's/^/read_iops=/'
            losetup -d "$dev"
            """,
            TimeSpan.FromMinutes(3), cancellationToken: Ct);
        Log(run.Describe());

        Assert.True(run.ExitCode == 0, run.Describe());
        var line = run.Output.Split('\n').Single(l => l.StartsWith("read_iops=", StringComparison.Ordinal));
        var iops = long.Parse(line["read_iops=".Length..], CultureInfo.InvariantCulture);
        Assert.True(iops > 0, run.Describe());
    }
}
