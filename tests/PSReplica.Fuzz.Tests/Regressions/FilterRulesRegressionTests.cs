using System.Text;

namespace PSReplica.Fuzz.Tests.Regressions;

/// <summary>Inputs the filter-rules target found, each named after what it holds; the fuzzer's input is kept as it was
/// found (also in tests/Fuzz/corpus/filter-rules/).</summary>
public sealed class FilterRulesRegressionTests
{
    /// <summary>crash-8efe5ab5525d1435: ". r\x80\0\0\0" among other rules. The merge file's name went to Path.GetFullPath,
    /// whose ArgumentException ("Null character in path") escaped the parser instead of an ErrorRecord.</summary>
    [Fact]
    public void A_merge_rule_whose_file_name_holds_a_NUL_is_InvalidFilterRule()
    {
        string[] rules = Encoding.UTF8.GetString(Convert.FromBase64String("OiAucnN5bmMtZmlsdGVyCi4gcoAAAAAKLSEgL2tlZXAK"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);

        SyncException error = Assert.Throws<SyncException>(() => SyncFilter.Parse(rules, Path.GetTempPath()));

        Assert.Equal(ErrorIds.InvalidFilterRule, error.ErrorId);
        Assert.Contains("NUL", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(". a\0b")]
    [InlineData(": a\0b")]
    [InlineData("merge,- a\0b")]
    public void A_merge_or_dir_merge_rule_naming_a_NUL_is_InvalidFilterRule(string rule)
    {
        SyncException error = Assert.Throws<SyncException>(() => SyncFilter.Parse(rule));

        Assert.Equal(ErrorIds.InvalidFilterRule, error.ErrorId);
    }
}
