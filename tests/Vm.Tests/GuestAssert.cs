using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace S3Block.Tests.Vm;

/// <summary>
/// Assertions on a section of guest output that, when they fail, print the whole section. xUnit's own shorten the
/// value to a few dozen characters, and CI shows nothing else of a guest run: a failure must be diagnosable from
/// the message alone.
/// </summary>
internal static class GuestAssert
{
    public static void Contains(string expected, string section)
    {
        if (!section.Contains(expected, StringComparison.Ordinal))
        {
            throw Fail($"\"{expected}\" not found", section);
        }
    }

    public static void DoesNotContain(string unexpected, string section)
    {
        if (section.Contains(unexpected, StringComparison.Ordinal))
        {
            throw Fail($"\"{unexpected}\" found", section);
        }
    }

    public static void Matches(string pattern, string section)
    {
        if (!Regex.IsMatch(section, pattern))
        {
            throw Fail($"no match for /{pattern}/", section);
        }
    }

    private static XunitException Fail(string what, string section) =>
        new($"{what} in the guest output section:\n----\n{section}\n----");
}
