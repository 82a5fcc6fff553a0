using System.Text;
using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Tests.Execution;

public sealed class TempFileNamesTests
{
    private const int MaxNameBytes = 255;

    [Fact]
    public void A_short_name_keeps_the_target_name_after_the_prefix()
    {
        string temp = TempFileNames.For("report.pdf");
        Assert.StartsWith(".~psr", temp, StringComparison.Ordinal);
        Assert.EndsWith("~report.pdf", temp, StringComparison.Ordinal);
        Assert.Equal(".~psr".Length + 8 + 1 + "report.pdf".Length, temp.Length);
        Assert.True(TempFileNames.IsTemporary(temp));
    }

    [Fact]
    public void Two_names_for_one_target_differ()
    {
        Assert.NotEqual(TempFileNames.For("f"), TempFileNames.For("f"));
    }

    public static TheoryData<string> LongNames => new()
    {
        new string('a', 255),
        new string('a', 250),
        new string('a', 241),
        string.Concat(System.Linq.Enumerable.Repeat("日", 85)),
        "x" + string.Concat(System.Linq.Enumerable.Repeat("日", 84)),
        string.Concat(System.Linq.Enumerable.Repeat("😀", 63)),
        "ab" + string.Concat(System.Linq.Enumerable.Repeat("😀", 63)),
        "é" + new string('b', 253),
    };

    [Theory]
    [MemberData(nameof(LongNames))]
    public void Long_and_unicode_names_fit_255_utf8_bytes_and_stay_valid(string target)
    {
        Assert.True(Encoding.UTF8.GetByteCount(target) <= MaxNameBytes, "the test name itself must be a valid name");
        string temp = TempFileNames.For(target);

        Assert.True(Encoding.UTF8.GetByteCount(temp) <= MaxNameBytes, $"{Encoding.UTF8.GetByteCount(temp)} bytes");
        Assert.True(TempFileNames.IsTemporary(temp));
        AssertNoLoneSurrogate(temp);
        string kept = temp[(".~psr".Length + 9)..];
        Assert.StartsWith(kept, target, StringComparison.Ordinal);

        // The filesystem accepts it.
        string directory = Path.Join(Path.GetTempPath(), "psr-temp-names-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            File.WriteAllText(Path.Join(directory, temp), "x");
            Assert.True(File.Exists(Path.Join(directory, temp)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("a")]
    [InlineData("ファイル")]
    [InlineData(".hidden")]
    [InlineData(".~psr0000~")]
    public void Names_made_by_For_are_temporary(string target) =>
        Assert.True(TempFileNames.IsTemporary(TempFileNames.For(target)));

    [Theory]
    [InlineData("")]
    [InlineData("f")]
    [InlineData("report.pdf")]
    [InlineData(".~psr")]
    [InlineData(".~psr0123abcd")]
    [InlineData(".~psr0123abc~f")]
    [InlineData(".~psr0123abcdX")]
    [InlineData(".~psr0123ABCD~f")]
    [InlineData(".~psr0123abcg~f")]
    [InlineData("x.~psr0123abcd~f")]
    [InlineData("~psr0123abcd~f")]
    [InlineData(".~PSR0123abcd~f")]
    public void Ordinary_names_are_not_temporary(string name) =>
        Assert.False(TempFileNames.IsTemporary(name));

    [Theory]
    [InlineData(".~psr0123abcd~f")]
    [InlineData(".~psr00000000~")]
    [InlineData(".~psrffffffff~x~y")]
    public void The_temporary_pattern_is_recognised(string name) =>
        Assert.True(TempFileNames.IsTemporary(name));

    private static void AssertNoLoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]))
            {
                Assert.True(i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]), $"lone high surrogate at {i}");
                i++;
            }
            else
            {
                Assert.False(char.IsLowSurrogate(s[i]), $"lone low surrogate at {i}");
            }
        }
    }
}
