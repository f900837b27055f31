using System.Globalization;

namespace S3Block.Tests.PowerCut;

/// <summary>One write of the workload. Sequence numbers come from one counter shared by every thread: a write whose
/// <see cref="CompleteSeq"/> is below another's <see cref="IssueSeq"/> had returned before the other was started.</summary>
internal sealed record WriteRecord(long Id, long IssueSeq, long CompleteSeq, long Offset, int Length)
{
    public long FirstBlock => Offset / BlockPattern.BlockSize;

    public int Blocks => Length / BlockPattern.BlockSize;
}

/// <summary>One FLUSH (fdatasync of the device) that completed, and the dm-log-writes mark added after it: every write
/// with <c>CompleteSeq &lt; StartSeq</c> had completed before it was issued.</summary>
internal sealed record FlushRecord(int Number, long StartSeq, long EndSeq, string Mark);

/// <summary>What the workload did, kept off the logged disk (tmpfs) and read back by the checker. One line per record.</summary>
internal sealed class History
{
    public List<WriteRecord> Writes { get; } = [];

    public List<FlushRecord> Flushes { get; } = [];

    public void Save(string path)
    {
        using var writer = new StreamWriter(path);
        foreach (var w in Writes)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"W {w.Id} {w.IssueSeq} {w.CompleteSeq} {w.Offset} {w.Length}"));
        }

        foreach (var f in Flushes)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"F {f.Number} {f.StartSeq} {f.EndSeq} {f.Mark}"));
        }
    }

    public static History Load(string path)
    {
        var history = new History();
        foreach (var line in File.ReadLines(path))
        {
            var p = line.Split(' ');
            switch (p[0])
            {
                case "W":
                    history.Writes.Add(new WriteRecord(L(p[1]), L(p[2]), L(p[3]), L(p[4]), (int)L(p[5])));
                    break;
                case "F":
                    history.Flushes.Add(new FlushRecord((int)L(p[1]), L(p[2]), L(p[3]), p[4]));
                    break;
                default:
                    throw new InvalidDataException($"{path}: unexpected line '{line}'");
            }
        }

        history.Writes.Sort((a, b) => a.Id.CompareTo(b.Id));
        return history;

        static long L(string s) => long.Parse(s, CultureInfo.InvariantCulture);
    }
}
