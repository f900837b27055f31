namespace S3Block.Tests.Vm;

/// <summary>Splits a guest script's output into the sections it printed as <c>### name</c> lines.</summary>
internal static class GuestSections
{
    public static Dictionary<string, string> Parse(string output)
    {
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        var lines = new List<string>();
        foreach (string line in output.Split('\n'))
        {
            if (line.StartsWith("### ", StringComparison.Ordinal))
            {
                if (current is not null)
                {
                    sections[current] = string.Join('\n', lines).Trim();
                }

                current = line[4..].Trim();
                lines.Clear();
            }
            else if (current is not null)
            {
                lines.Add(line);
            }
        }

        return sections;
    }
}
