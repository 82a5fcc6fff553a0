namespace PSReplica.Engine.Tests.Filtering;

public sealed class GitIgnoreTranslatorTests
{
    private static SyncFilter FromGitIgnore(string content)
    {
        using var tree = new TestTree();
        string file = TestTree.Write(tree.Root, ".gitignore", content);
        return new SyncFilterBuilder().AddGitIgnore(file).Build();
    }

    [Fact]
    public void Lines_are_reversed_so_the_last_match_wins()
    {
        SyncFilter filter = FromGitIgnore("*.log\n!keep.log\n");
        Assert.Equal(["+ keep.log", "- *.log"], filter.Rules.Select(r => r.Text));
        Assert.True(filter.Test("a/keep.log", false));
        Assert.False(filter.Test("a/other.log", false));
        Assert.Equal(2, filter.Rules[0].Line);
        Assert.EndsWith(".gitignore", filter.Rules[0].Source);

        SyncFilter reversed = FromGitIgnore("!keep.log\n*.log\n");
        Assert.False(reversed.Test("keep.log", false));
    }

    [Theory]
    [InlineData("build", "- build")]
    [InlineData("build/", "- build/")]
    [InlineData("/build", "- /build")]
    [InlineData("doc/frotz", "- /doc/frotz")]
    [InlineData("doc/frotz/", "- /doc/frotz/")]
    [InlineData("**/foo", "- foo")]
    [InlineData("**/foo/bar", "- foo/bar")]
    [InlineData("abc/**", "- /abc/**")]
    [InlineData("\\#file", "- #file")]
    [InlineData("\\!file", "- !file")]
    [InlineData("!important", "+ important")]
    [InlineData("trailing   ", "- trailing")]
    [InlineData("space\\ ", "- space ")]
    [InlineData("*.o\\ ", "- *.o\\ ")]
    public void Each_line_translates_to_the_rsync_rule_with_the_same_meaning(string line, string rule) =>
        Assert.Equal([rule], FromGitIgnore(line + "\n").Rules.Select(r => r.Text));

    [Fact]
    public void Comments_and_blank_lines_are_skipped()
    {
        Assert.Empty(FromGitIgnore("# comment\n\n").Rules);
    }

    [Fact]
    public void Inner_double_star_also_matches_no_directory()
    {
        SyncFilter filter = FromGitIgnore("a/**/b\n");
        Assert.Equal(["- /a/b", "- /a/**/b"], filter.Rules.Select(r => r.Text));
        Assert.False(filter.Test("a/b", false));
        Assert.False(filter.Test("a/x/y/b", false));
        Assert.True(filter.Test("x/a/b", false));
    }

    [Fact]
    public void A_file_in_an_excluded_directory_cannot_be_reincluded_but_contents_rules_can()
    {
        SyncFilter filter = FromGitIgnore("logs/\n!logs/keep.log\n");
        // The directory itself is excluded, so a walk never reaches logs/keep.log (as in git).
        Assert.False(filter.Test("logs", true));

        SyncFilter contents = FromGitIgnore("/logs/*\n!/logs/keep.log\n");
        Assert.True(contents.Test("logs", true));
        Assert.True(contents.Test("logs/keep.log", false));
        Assert.False(contents.Test("logs/other.log", false));
    }

    [Fact]
    public void A_floating_name_matches_at_any_depth_and_an_anchored_one_only_at_the_root()
    {
        SyncFilter filter = FromGitIgnore("tmp\n/out\n");
        Assert.False(filter.Test("tmp", true));
        Assert.False(filter.Test("a/b/tmp", false));
        Assert.False(filter.Test("out", true));
        Assert.True(filter.Test("a/out", true));
    }
}
