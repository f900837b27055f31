using System.Text.RegularExpressions;

namespace S3Block.Tests.Vm;

/// <summary>
/// Splits a guest script's output into the sections it printed as <c>### name</c> lines. A header may end with
/// <c>@Ns</c>, the script's age when the section started (tests/vm/guest-lib.sh); it is not part of the name.
/// </summary>
internal static partial class GuestSections
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

                current = AgeSuffix().Replace(line[4..], "").Trim();
                lines.Clear();
            }
            else if (current is not null)
            {
                lines.Add(line);
            }
        }

        return sections;
    }

    [GeneratedRegex(@"\s@\d+s\s*$")]
    private static partial Regex AgeSuffix();
}
