using CsCheck;
using PSReplica.Engine.Filtering;

namespace PSReplica.Engine.Tests.Filtering;

public sealed class WildmatchTests
{
    // rsync compares bytes: verified with rsync 3.2.7 (`rsync -r -n --exclude=PATTERN`) on UTF-8 names.
    [Theory]
    [InlineData("?", "Ж", false)]          // Ж is two bytes
    [InlineData("??", "Ж", true)]
    [InlineData("??", "ß", true)]
    [InlineData("[日]本", "日本", false)]   // the class takes one of 日's three bytes
    [InlineData("???本", "日本", true)]
    [InlineData("*本", "日本", true)]
    [InlineData("é*", "é.txt", true)]
    [InlineData("[!a]", "é", false)]       // é is two bytes; a class is one
    [InlineData("[[:alpha:]]*", "é", false)]
    [InlineData("[[:cntrl:]]?", "é", false)]
    public void Non_ascii_names_match_byte_by_byte_as_in_rsync(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Wildmatch.Match(pattern, text));

    [Theory]
    [InlineData("foo", "foo", true)]
    [InlineData("foo", "fo", false)]
    [InlineData("foo", "fooo", false)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    [InlineData("*", "", true)]
    [InlineData("*", "anything", true)]
    [InlineData("*.txt", "a.txt", true)]
    [InlineData("*.txt", ".txt", true)]
    [InlineData("*.txt", "a.txt.bak", false)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    public void Literals_and_star_within_a_component(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Wildmatch.Match(pattern, text));

    [Theory]
    [InlineData("*", "a/b", false)]
    [InlineData("a*", "a/b", false)]
    [InlineData("*/b", "a/b", true)]
    [InlineData("*/b", "a/x/b", false)]
    [InlineData("a/*/c", "a/b/c", true)]
    [InlineData("a/*/c", "a/b/x/c", false)]
    [InlineData("a/*", "a/b/c", false)]
    public void Single_star_never_crosses_a_slash(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Wildmatch.Match(pattern, text));

    [Theory]
    [InlineData("**", "a/b/c", true)]
    [InlineData("**", "", true)]
    [InlineData("a/**", "a/b/c", true)]
    [InlineData("a/**", "a/", true)]
    [InlineData("a/**", "a", false)]
    [InlineData("**/c", "a/b/c", true)]
    [InlineData("**/c", "c", false)]
    [InlineData("a/**/c", "a/b/x/c", true)]
    [InlineData("a/**/c", "a/b/c", true)]
    // rsync's "**" has no zero-directory form: "a/**/c" needs two slashes (unlike git).
    [InlineData("a/**/c", "a/c", false)]
    [InlineData("a**c", "ab/xc", true)]
    [InlineData("***", "a/b", true)]
    [InlineData("a/***", "a/b/c", true)]
    [InlineData("**/*.txt", "d/e/f.txt", true)]
    [InlineData("**/*.txt", "d/e/f.txt/g", false)]
    public void Double_star_crosses_slashes(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Wildmatch.Match(pattern, text));

    [Theory]
    [InlineData("?", "a", true)]
    [InlineData("?", "", false)]
    [InlineData("?", "ab", false)]
    [InlineData("?", "/", false)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "a/c", false)]
    [InlineData("??", "ab", true)]
    public void Question_mark_is_one_character_but_not_a_slash(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Wildmatch.Match(pattern, text));

    [Theory]
    [InlineData("[abc]", "a", true)]
    [InlineData("[abc]", "c", true)]
    [InlineData("[abc]", "d", false)]
    [InlineData("[abc]", "ab", false)]
    [InlineData("[a-z]", "q", true)]
    [InlineData("[a-z]", "Q", false)]
    [InlineData("[a-cx-z]", "y", true)]
    [InlineData("[a-cx-z]", "m", false)]
    [InlineData("[!x]", "y", true)]
    [InlineData("[!x]", "x", false)]
    [InlineData("[^x]", "y", true)]
    [InlineData("[^x]", "x", false)]
    [InlineData("[!a-c]", "b", false)]
    [InlineData("[!a-c]", "d", true)]
    [InlineData("[]]", "]", true)]
    [InlineData("[]a]", "a", true)]
    [InlineData("[!]]", "]", false)]
    [InlineData("[!]]", "a", true)]
    [InlineData("[a-]", "-", true)]
    [InlineData("[-a]", "-", true)]
    [InlineData("[\\]]", "]", true)]
    [InlineData("[\\!]", "!", true)]
    [InlineData("x[ab]y", "xby", true)]
    public void Character_classes(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Wildmatch.Match(pattern, text));

    [Theory]
    [InlineData("[/]", "/")]
    [InlineData("[!a]", "/")]
    [InlineData("[^a]", "/")]
    [InlineData("[.-0]", "/")]
    [InlineData("[[:punct:]]", "/")]
    [InlineData("[[:graph:]]", "/")]
    [InlineData("a[!b]c", "a/c")]
    public void Classes_never_match_a_slash(string pattern, string text) =>
        Assert.False(Wildmatch.Match(pattern, text));

    [Theory]
    [InlineData("[[:digit:]]", "7", true)]
    [InlineData("[[:digit:]]", "x", false)]
    [InlineData("[[:alpha:]]", "x", true)]
    [InlineData("[[:alpha:]]", "1", false)]
    [InlineData("[[:alnum:]]", "1", true)]
    [InlineData("[[:alnum:]]", "_", false)]
    [InlineData("[[:upper:]]", "Q", true)]
    [InlineData("[[:upper:]]", "q", false)]
    [InlineData("[[:lower:]]", "q", true)]
    [InlineData("[[:lower:]]", "Q", false)]
    [InlineData("[[:space:]]", " ", true)]
    [InlineData("[[:space:]]", "\t", true)]
    [InlineData("[[:space:]]", "x", false)]
    [InlineData("[[:blank:]]", "\t", true)]
    [InlineData("[[:blank:]]", "\n", false)]
    [InlineData("[[:xdigit:]]", "f", true)]
    [InlineData("[[:xdigit:]]", "g", false)]
    [InlineData("[[:punct:]]", "!", true)]
    [InlineData("[[:punct:]]", "a", false)]
    [InlineData("[[:print:]]", " ", true)]
    [InlineData("[[:graph:]]", " ", false)]
    [InlineData("[[:cntrl:]]", "\u0001", true)]
    [InlineData("[[:cntrl:]]", "a", false)]
    [InlineData("[![:digit:]]", "a", true)]
    [InlineData("[![:digit:]]", "5", false)]
    [InlineData("[[:digit:][:upper:]]", "Z", true)]
    [InlineData("[[:digit:]x]", "x", true)]
    [InlineData("file[[:digit:]][[:digit:]].log", "file42.log", true)]
    [InlineData("file[[:digit:]][[:digit:]].log", "file4x.log", false)]
    public void Posix_classes(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Wildmatch.Match(pattern, text));

    [Theory]
    [InlineData("[[:nosuch:]]", "a")]
    [InlineData("[abc", "a")]
    [InlineData("[abc", "[abc")]
    [InlineData("[", "[")]
    [InlineData("[!", "a")]
    [InlineData("[]", "]")]
    [InlineData("a[\\", "a\\")]
    public void Malformed_classes_match_nothing(string pattern, string text) =>
        Assert.False(Wildmatch.Match(pattern, text));

    [Theory]
    [InlineData("\\*", "*", true)]
    [InlineData("\\*", "a", false)]
    [InlineData("\\?", "?", true)]
    [InlineData("\\?", "a", false)]
    [InlineData("\\[a]", "[a]", true)]
    [InlineData("\\[a]", "a", false)]
    [InlineData("\\\\", "\\", true)]
    [InlineData("a\\b", "ab", true)]
    [InlineData("*\\*", "abc*", true)]
    [InlineData("*\\*", "abc", false)]
    public void Backslash_escapes_the_next_character(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Wildmatch.Match(pattern, text));

    [Fact]
    public void A_trailing_backslash_matches_nothing_as_in_rsync()
    {
        // wildmatch.c: the escaped character is the terminating NUL, which no text character equals.
        Assert.False(Wildmatch.Match("a\\", "a\\"));
        Assert.False(Wildmatch.Match("a\\", "a"));
    }

    [Theory]
    [InlineData("dir/*", "dir/file", true)]
    [InlineData("dir/*", "dir/", true)]
    [InlineData("dir/*", "dir/sub/file", false)]
    [InlineData("dir*", "dir/", false)]
    [InlineData("dir/**", "dir/sub/file", true)]
    [InlineData("*/", "dir/", true)]
    [InlineData("*/", "dir", false)]
    public void Trailing_star_versus_slash(string pattern, string text, bool expected) =>
        Assert.Equal(expected, Wildmatch.Match(pattern, text));

    [Theory]
    [InlineData("*", false)]
    [InlineData("a?", false)]
    [InlineData("[ab]", false)]
    [InlineData("a\\b", true)] // rsync matches a pattern without * ? [ literally, backslash included
    [InlineData("plain", true)]
    [InlineData("with/slash", true)]
    public void HasWildcards_detects_the_special_characters(string pattern, bool literal) =>
        Assert.Equal(!literal, Wildmatch.HasWildcards(pattern));

    [Fact]
    public void Many_stars_do_not_backtrack_exponentially()
    {
        string text = new string('a', 60) + "b";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(Wildmatch.Match("*a*a*a*a*a*a*a*a*a*a*c", text));
        Assert.False(Wildmatch.Match("**a**a**a**a**a**a**a**a**c", text));
        Assert.True(clock.ElapsedMilliseconds < 2000, $"took {clock.ElapsedMilliseconds} ms");
    }

    [Theory]
    [InlineData("a/**/c", "a/b/c")]
    [InlineData("[[:a]:]", "a:]")]
    [InlineData("[![:digit:]-]", "x")]
    [InlineData("a\\", "a\\")]
    [InlineData("**/b", "/b")]
    [InlineData("[a-]b", "-b")]
    public void Reference_matcher_sanity(string pattern, string text) =>
        Assert.Equal(ReferenceWildmatch.Match(pattern, text), Wildmatch.Match(pattern, text));

    // The alphabet of the task brief: '/', '*', '?', 'a', 'b', '[', ']'.
    private static readonly Gen<string> s_basicPattern =
        Gen.OneOf("a", "b", "/", "*", "**", "?", "[", "]", "[ab]", "[!a]", "[^b]").Array[0, 7].Select(string.Concat);

    private static readonly Gen<string> s_basicText = Gen.OneOf('a', 'b', '/', '*', '?', '[', ']').Array[0, 8].Select(chars => new string(chars));

    [Fact]
    public void Agrees_with_the_reference_matcher_on_the_basic_alphabet()
    {
        Gen.Select(s_basicPattern, s_basicText).Sample(
            (pattern, text) => Wildmatch.Match(pattern, text) == ReferenceWildmatch.Match(pattern, text),
            iter: 100_000);
    }

    // Adds escapes, ranges, negation and POSIX classes, where class parsing is subtle.
    private static readonly Gen<string> s_richPattern =
        Gen.OneOf("a", "b", "/", "*", "**", "?", "[", "]", "!", "^", "-", ":", "\\", "[:alpha:]", "[:digit:]", "1").Array[0, 8].Select(string.Concat);

    private static readonly Gen<string> s_richText = Gen.OneOf('a', 'b', '/', '*', '?', '[', ']', '!', '^', '-', ':', '\\', '1').Array[0, 8].Select(chars => new string(chars));

    [Fact]
    public void Agrees_with_the_reference_matcher_on_escapes_ranges_and_posix_classes_without_a_trailing_backslash()
    {
        Gen.Select(s_richPattern.Where(p => !EndsWithEscape(p)), s_richText).Sample(
            (pattern, text) => Wildmatch.Match(pattern, text) == ReferenceWildmatch.Match(pattern, text),
            iter: 100_000);
    }

    private static bool EndsWithEscape(string pattern)
    {
        int backslashes = 0;
        for (int i = pattern.Length - 1; i >= 0 && pattern[i] == '\\'; i--)
        {
            backslashes++;
        }

        return backslashes % 2 == 1;
    }

    [Fact]
    public void Agrees_with_the_reference_matcher_on_escapes_ranges_and_posix_classes()
    {
        Gen.Select(s_richPattern, s_richText).Sample(
            (pattern, text) => Wildmatch.Match(pattern, text) == ReferenceWildmatch.Match(pattern, text),
            iter: 100_000);
    }
}
