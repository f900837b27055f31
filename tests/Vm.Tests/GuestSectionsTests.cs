namespace S3Block.Tests.Vm;

/// <summary>The split of a guest script's output into sections (no VM).</summary>
public sealed class GuestSectionsTests
{
    [Fact]
    public void A_header_age_is_not_part_of_the_name_and_old_style_headers_still_parse()
    {
        var sections = GuestSections.Parse("boot noise\n### setup @0s\nready\n### kill-fio @125s\nrounds=24\n### old-style\nx\n### end @300s\n");

        Assert.Equal(["kill-fio", "old-style", "setup"], sections.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("ready", sections["setup"]);
        Assert.Equal("rounds=24", sections["kill-fio"]);
        Assert.Equal("x", sections["old-style"]);
    }

    [Fact]
    public void A_section_the_output_never_ended_is_missing()
    {
        // Every script ends with "### end": output cut off inside a section must not pass as that section's text.
        var sections = GuestSections.Parse("### setup @0s\nready\n### kill-fio @125s\nrounds=3\n");

        Assert.Equal(["setup"], sections.Keys);
    }

    [Fact]
    public void An_at_sign_inside_a_name_is_kept()
    {
        var sections = GuestSections.Parse("### user@host 2s\nx\n### end\n");

        Assert.Equal("x", sections["user@host 2s"]);
    }
}
