using System.Buffers.Binary;
using S3Block.Cache.Journal;

namespace S3Block.Tests.Journal;

/// <summary>A record as replay delivered it, with a copy of its payload.</summary>
internal sealed record ReplayedRecord(JournalRecord Record, byte[] Payload);

/// <summary>What a test appended, to compare with what comes back.</summary>
internal sealed record AppendedRecord(JournalRecordType Type, long DeviceOffset, long Length, byte[] Payload, JournalPosition Position);

internal static class JournalTestKit
{
    public static readonly Guid VolumeId = Guid.Parse("6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b");

    public static JournalOptions Options(
        int alignment = 4096,
        long segmentSize = 1 << 20,
        long capacity = 64 << 20,
        double highWaterMark = 0.8,
        JournalCorruptionPolicy policy = JournalCorruptionPolicy.Refuse) => new()
        {
            RecordAlignment = alignment,
            SegmentSizeBytes = segmentSize,
            CapacityBytes = capacity,
            HighWaterMark = highWaterMark,
            MaxThrottleDelay = TimeSpan.FromMilliseconds(2),
            MidJournalCorruption = policy,
        };

    /// <summary>Opens a journal and collects what replay hands over.</summary>
    public static FlushJournal Open(
        string directory,
        JournalOptions options,
        out List<ReplayedRecord> replayed,
        long epoch = 1,
        long firstSequence = 1,
        Guid? volumeId = null)
    {
        var list = new List<ReplayedRecord>();
        replayed = list;
        return FlushJournal.Open(
            directory,
            volumeId ?? VolumeId,
            epoch,
            firstSequence,
            options,
            (in JournalRecord record, ReadOnlySpan<byte> payload) => list.Add(new ReplayedRecord(record, payload.ToArray())));
    }

    /// <summary>Deterministic, distinct bytes for a seed.</summary>
    public static byte[] Payload(int length, long seed)
    {
        var bytes = new byte[length];
        var state = (ulong)seed * 0x9E3779B97F4A7C15UL + 1;
        Span<byte> word = stackalloc byte[8];
        for (var i = 0; i < length; i += 8)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            BinaryPrimitives.WriteUInt64LittleEndian(word, state);
            word[..Math.Min(8, length - i)].CopyTo(bytes.AsSpan(i));
        }

        return bytes;
    }

    public static async Task<AppendedRecord> AppendWrite(FlushJournal journal, long deviceOffset, int length, long seed)
    {
        var payload = Payload(length, seed);
        var position = await journal.AppendWriteAsync(deviceOffset, payload, TestContext.Current.CancellationToken);
        return new AppendedRecord(JournalRecordType.Write, deviceOffset, length, payload, position);
    }

    public static string SegmentPath(string directory, long segmentId) =>
        Path.Combine(directory, segmentId.ToString("D20") + ".journal");

    public static string[] SegmentFiles(string directory) =>
        [.. Directory.GetFiles(directory, "*.journal").Order(StringComparer.Ordinal)];

    /// <summary>Asserts that replay returned exactly the appended records, in order, with their payloads.</summary>
    public static void AssertReplayed(IReadOnlyList<AppendedRecord> expected, IReadOnlyList<ReplayedRecord> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var a = actual[i];
            Assert.Equal(e.Type, a.Record.Type);
            Assert.Equal(e.DeviceOffset, a.Record.DeviceOffset);
            Assert.Equal(e.Length, a.Record.Length);
            Assert.Equal(e.Position, a.Record.Position);
            Assert.Equal(e.Payload, a.Payload);
        }
    }

    public static void FlipBit(string path, long offset, int bit = 0)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ (1 << bit)));
    }

    public static void Zero(string path, long offset, int count)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        file.Write(new byte[count]);
    }

    /// <summary>Waits (without a fixed sleep) until <paramref name="condition"/> holds; fails after a generous timeout.</summary>
    public static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting until " + what);
            await Task.Delay(1, TestContext.Current.CancellationToken);
        }
    }
}
