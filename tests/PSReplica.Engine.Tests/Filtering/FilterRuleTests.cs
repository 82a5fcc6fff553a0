namespace PSReplica.Engine.Tests.Filtering;

public sealed class FilterRuleTests
{
    [Theory]
    [InlineData("foo", "foo", true)]
    [InlineData("foo", "a/foo", true)]
    [InlineData("foo", "a/b/foo", true)]
    [InlineData("foo", "xfoo", false)]
    [InlineData("foo", "a/xfoo", false)]
    [InlineData("foo", "foo/x", false)]
    [InlineData("*.o", "a/b/c.o", true)]
    [InlineData("*.o", "c.o/x", false)]
    public void A_floating_pattern_without_a_slash_matches_the_final_component(string pattern, string path, bool expected) =>
        Assert.Equal(expected, FilterRule.Exclude(pattern).IsMatch(path, isDirectory: false));

    [Theory]
    [InlineData("/foo", "foo", true)]
    [InlineData("/foo", "a/foo", false)]
    [InlineData("/a/foo", "a/foo", true)]
    [InlineData("/a/foo", "x/a/foo", false)]
    [InlineData("/*.o", "c.o", true)]
    [InlineData("/*.o", "a/c.o", false)]
    public void A_leading_slash_anchors_the_pattern_to_the_root(string pattern, string path, bool expected)
    {
        FilterRule rule = FilterRule.Exclude(pattern);
        Assert.True(rule.Anchored);
        Assert.Equal(expected, rule.IsMatch(path, isDirectory: false));
    }

    [Theory]
    [InlineData("b/c", "b/c", true)]
    [InlineData("b/c", "a/b/c", true)]
    [InlineData("b/c", "x/a/b/c", true)]
    [InlineData("b/c", "ab/c", false)]
    [InlineData("b/c", "a/xb/c", false)]
    [InlineData("b/c", "b/c/d", false)]
    [InlineData("b/*.o", "a/b/x.o", true)]
    [InlineData("b/*.o", "a/xb/x.o", false)]
    [InlineData("b/*.o", "b/d/x.o", false)]
    [InlineData("*/c", "a/b/c", true)]
    public void A_pattern_with_an_inner_slash_matches_a_path_suffix_at_a_component_boundary(string pattern, string path, bool expected)
    {
        FilterRule rule = FilterRule.Exclude(pattern);
        Assert.True(rule.MatchesFullPath);
        Assert.False(rule.Anchored);
        Assert.Equal(expected, rule.IsMatch(path, isDirectory: false));
    }

    [Fact]
    public void A_trailing_slash_restricts_the_rule_to_directories()
    {
        FilterRule rule = FilterRule.Exclude("cache/");
        Assert.True(rule.DirectoryOnly);
        Assert.True(rule.IsMatch("cache", isDirectory: true));
        Assert.True(rule.IsMatch("a/cache", isDirectory: true));
        Assert.False(rule.IsMatch("cache", isDirectory: false));
        Assert.False(rule.IsMatch("a/cache", isDirectory: false));
        Assert.False(rule.MatchesFullPath);
    }

    [Fact]
    public void Triple_star_matches_a_directory_and_everything_below_it()
    {
        FilterRule rule = FilterRule.Include("dir/***");
        Assert.True(rule.MatchesContents);
        Assert.True(rule.IsMatch("dir", isDirectory: true));
        Assert.True(rule.IsMatch("dir/file", isDirectory: false));
        Assert.True(rule.IsMatch("dir/sub/deeper/file", isDirectory: false));
        Assert.True(rule.IsMatch("x/dir/file", isDirectory: false));
        Assert.False(rule.IsMatch("dirt/file", isDirectory: false));
        Assert.False(rule.IsMatch("other", isDirectory: true));
    }

    [Fact]
    public void Anchored_triple_star_only_matches_at_the_root()
    {
        FilterRule rule = FilterRule.Include("/dir/***");
        Assert.True(rule.IsMatch("dir", isDirectory: true));
        Assert.True(rule.IsMatch("dir/a/b", isDirectory: false));
        Assert.False(rule.IsMatch("x/dir/a", isDirectory: false));
    }

    [Fact]
    public void Triple_star_does_not_match_a_file_of_the_directory_name()
    {
        // rsync appends "/" to directory names only, so "dir/***" needs "dir" to be a directory.
        FilterRule rule = FilterRule.Exclude("dir/***");
        Assert.False(rule.IsMatch("dir", isDirectory: false));
        Assert.False(rule.IsMatch("a/dir", isDirectory: false));
    }

    [Fact]
    public void Bare_triple_star_matches_everything()
    {
        FilterRule rule = FilterRule.Exclude("***");
        Assert.True(rule.IsMatch("a", isDirectory: false));
        Assert.True(rule.IsMatch("a/b/c", isDirectory: true));
    }

    [Theory]
    [InlineData("**/foo", "foo", true)]
    [InlineData("**/foo", "a/foo", true)]
    [InlineData("**/foo", "a/b/foo", true)]
    [InlineData("**/foo", "a/foox", false)]
    [InlineData("a/**/c", "a/b/c", true)]
    [InlineData("a/**/c", "x/a/b/d/c", true)]
    [InlineData("a/**", "x/a/b", true)]
    [InlineData("**.bak", "d/e/x.bak", true)]
    [InlineData("/**/x", "a/b/x", true)]
    [InlineData("/**/x", "x", false)]
    public void Double_star_patterns_match_across_directories(string pattern, string path, bool expected) =>
        Assert.Equal(expected, FilterRule.Exclude(pattern).IsMatch(path, isDirectory: false));

    [Theory]
    [InlineData("a\\b", "a\\b", true)]
    [InlineData("a\\b", "ab", false)]
    [InlineData("a\\*", "a*", true)]
    [InlineData("a\\*", "ab", false)]
    [InlineData("*\\", "a\\", false)]
    public void A_backslash_escapes_only_in_patterns_with_wildcards(string pattern, string path, bool expected) =>
        // rsync treats a pattern without '*', '?' or '[' as a literal name, backslashes included.
        Assert.Equal(expected, FilterRule.Exclude(pattern).IsMatch(path, isDirectory: false));

    [Fact]
    public void A_leading_slash_in_the_path_is_ignored()
    {
        Assert.True(FilterRule.Exclude("/foo").IsMatch("/foo", isDirectory: false));
        Assert.True(FilterRule.Exclude("foo").IsMatch("/a/foo", isDirectory: false));
    }

    [Theory]
    [InlineData("[abc")]
    [InlineData("x[!a")]
    [InlineData("dir/[a-")]
    public void An_unclosed_class_throws_InvalidFilterPattern(string pattern)
    {
        SyncException ex = Assert.Throws<SyncException>(() => FilterRule.Exclude(pattern));
        Assert.Equal(ErrorIds.InvalidFilterPattern, ex.ErrorId);
        Assert.Equal(SyncErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal(pattern, ex.Target);
        Assert.Contains(pattern, ex.Message, System.StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/")]
    public void A_pattern_without_a_name_throws_InvalidFilterPattern(string pattern)
    {
        SyncException ex = Assert.Throws<SyncException>(() => FilterRule.Include(pattern));
        Assert.Equal(ErrorIds.InvalidFilterPattern, ex.ErrorId);
    }

    [Theory]
    [InlineData("[]]")]
    [InlineData("[!]]")]
    [InlineData("\\[abc")]
    [InlineData("[[:digit:]]")]
    [InlineData("[\\]]")]
    public void Well_formed_classes_are_accepted(string pattern) =>
        Assert.Equal(pattern, FilterRule.Exclude(pattern).Pattern);

    [Fact]
    public void ToString_uses_rsync_filter_syntax()
    {
        Assert.Equal("+ *.txt", FilterRule.Include("*.txt").ToString());
        Assert.Equal("- /build/", FilterRule.Exclude("/build/").ToString());
        Assert.Equal("- dir/***", FilterRule.Exclude("dir/***").Text);
    }

    [Fact]
    public void Source_and_line_are_kept()
    {
        FilterRule rule = FilterRule.Exclude("*.o", "/etc/filters", 7);
        Assert.Equal("/etc/filters", rule.Source);
        Assert.Equal(7, rule.Line);
        Assert.Equal(FilterRuleType.Exclude, rule.Type);
        Assert.Equal("*.o", rule.Pattern);
    }
}
