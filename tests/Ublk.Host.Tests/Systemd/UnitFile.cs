namespace S3Block.Ublk.Tests.Systemd;

/// <summary>A minimal reader of a systemd unit file: sections of "Key=Value" lines, comments and blank lines skipped,
/// repeated keys kept in order. Enough to assert what the shipped unit says; systemd-analyze judges whether it is valid.</summary>
internal sealed class UnitFile
{
    private readonly Dictionary<string, List<string>> _values = [];

    private UnitFile()
    {
    }

    public static UnitFile Load(string path)
    {
        var unit = new UnitFile();
        string section = "";
        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[')
            {
                section = line.Trim('[', ']');
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(equals > 0, $"{path}: not a Key=Value line: {raw}");
            string key = $"{section}/{line[..equals].Trim()}";
            if (!unit._values.TryGetValue(key, out List<string>? values))
            {
                unit._values[key] = values = [];
            }

            values.Add(line[(equals + 1)..].Trim());
        }

        return unit;
    }

    /// <summary>Every value of "Section/Key", in file order.</summary>
    public IReadOnlyList<string> All(string sectionAndKey) => _values.TryGetValue(sectionAndKey, out List<string>? v) ? v : [];

    /// <summary>The single value of "Section/Key"; fails the test when it is missing or repeated.</summary>
    public string Single(string sectionAndKey)
    {
        IReadOnlyList<string> values = All(sectionAndKey);
        Assert.True(values.Count == 1, $"expected exactly one {sectionAndKey}=, found {values.Count}");
        return values[0];
    }

    public bool Has(string sectionAndKey) => _values.ContainsKey(sectionAndKey);
}
