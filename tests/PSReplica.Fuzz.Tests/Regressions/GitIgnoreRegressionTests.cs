using System.Text;
using PSReplica.Engine.Filtering;

namespace PSReplica.Fuzz.Tests.Regressions;

/// <summary>Inputs the filter-rules target found in the .gitignore translator, each named after what it holds; the
/// fuzzer's input is kept as it was found (also in tests/Fuzz/corpus/filter-rules/).</summary>
public sealed class GitIgnoreRegressionTests
{
    /// <summary>hang-4e8b6df0747ae56d: "+ /src/**/**/…/***" with 24 "/**/". Each inner "/**/" was written as two rules, so
    /// the line became 2^23 rules: minutes of work and gigabytes for a 162-byte file.</summary>
    [Fact]
    public void A_line_of_many_consecutive_double_stars_is_one_double_star()
    {
        string content = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(Corpus.CommittedDirectory("filter-rules"), "hang-4e8b6df0747ae56d.txt")));

        List<FilterRule> rules = GitIgnoreTranslator.Translate(content, ".gitignore");

        // git reads "+ /src/**/**/…/***" as a pattern that starts with "+ " (and "- /*", "- *.tmp" likewise): the first
        // becomes the two forms of "+ /src/**/***", the others one rule each ("- /*" anchored by its slash).
        Assert.Equal(["/- /*", "/+ /src/***", "/+ /src/**/***", "- *.tmp"], rules.Select(rule => rule.Pattern));
    }

    [Fact]
    public void Consecutive_double_stars_match_what_one_does()
    {
        var once = new SyncFilter(GitIgnoreTranslator.Translate("a/**/b\n", ".gitignore"));
        var twice = new SyncFilter(GitIgnoreTranslator.Translate("a/**/**/b\n", ".gitignore"));

        foreach (string path in new[] { "a/b", "a/x/b", "a/x/y/b", "b", "x/a/b", "a/bb" })
        {
            Assert.Equal(once.Test(path, isDirectory: false), twice.Test(path, isDirectory: false));
        }

        Assert.False(twice.Test("a/b", isDirectory: false));
        Assert.False(twice.Test("a/x/y/b", isDirectory: false));
    }

    [Fact]
    public void A_line_of_more_inner_double_stars_than_the_limit_is_InvalidFilterRule()
    {
        string line = "a" + string.Concat(Enumerable.Range(0, GitIgnoreTranslator.MaxInnerDoubleStars + 1).Select(i => $"/**/d{i}")) + "\n";

        SyncException error = Assert.Throws<SyncException>(() => GitIgnoreTranslator.Translate(line, ".gitignore"));

        Assert.Equal(ErrorIds.InvalidFilterRule, error.ErrorId);
        Assert.Equal(1 << GitIgnoreTranslator.MaxInnerDoubleStars,
            GitIgnoreTranslator.Translate("a" + string.Concat(Enumerable.Range(0, GitIgnoreTranslator.MaxInnerDoubleStars).Select(i => $"/**/d{i}")) + "\n", ".gitignore").Count);
    }
}
