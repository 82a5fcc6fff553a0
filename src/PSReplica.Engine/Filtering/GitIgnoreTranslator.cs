using System.Text;

namespace PSReplica.Engine.Filtering;

/// <summary>Turns a .gitignore into rsync rules with the same meaning. git lets the last matching line decide and
/// rsync the first, so the lines are translated in reverse order. Per line (gitignore(5)): '#' starts a comment,
/// "\#" and "\!" are literal, unescaped trailing spaces are dropped, '!' re-includes, a trailing '/' matches only
/// directories, a '/' at the start or in the middle anchors the pattern at the .gitignore's directory (otherwise it
/// matches at any depth), "**/" in front matches in all directories, "/**" at the end everything inside, and "/**/"
/// zero or more directories. git cannot re-include a file whose directory is excluded; neither can rsync, which
/// never enters an excluded directory, so that carries over.</summary>
internal static class GitIgnoreTranslator
{
    /// <summary>The most inner "/**/" one line may hold: the line becomes 2^n rules.</summary>
    public const int MaxInnerDoubleStars = 8;

    public static List<FilterRule> Translate(string content, string source)
    {
        var translated = new List<FilterRule>();
        string[] lines = content.Split('\n');
        for (int index = lines.Length - 1; index >= 0; index--)
        {
            int line = index + 1;
            string text = lines[index].TrimEnd('\r');
            foreach (FilterRule rule in TranslateLine(text, source, line))
            {
                translated.Add(rule);
            }
        }

        return translated;
    }

    private static IEnumerable<FilterRule> TranslateLine(string text, string source, int line)
    {
        if (text.Length == 0 || text[0] == '#')
        {
            yield break;
        }

        string p = TrimTrailingSpaces(text);
        bool include = false;
        if (p.StartsWith('!'))
        {
            include = true;
            p = p[1..];
        }
        else if (p.StartsWith("\\!", StringComparison.Ordinal) || p.StartsWith("\\#", StringComparison.Ordinal))
        {
            p = p[1..];
        }

        bool directoryOnly = false;
        if (p.EndsWith('/'))
        {
            directoryOnly = true;
            p = p.TrimEnd('/');
        }

        if (p.Length == 0)
        {
            yield break;
        }

        bool anchored = p.Contains('/', StringComparison.Ordinal);
        p = p.TrimStart('/');
        while (p.StartsWith("**/", StringComparison.Ordinal))
        {
            // "**/x" matches x in every directory: a floating pattern in rsync.
            p = p[3..];
            anchored = false;
        }

        if (p.Length == 0 || p == "**")
        {
            p = "**";
            anchored = false;
        }

        if (!Wildmatch.HasWildcards(p))
        {
            // rsync takes a pattern without wildcards literally, backslashes too; git's escapes are resolved here.
            p = Unescape(p);
        }

        // "/**/**/" means what "/**/" means; each other inner "/**/" doubles the rules, so their number is bounded.
        while (p.Contains("/**/**/", StringComparison.Ordinal))
        {
            p = p.Replace("/**/**/", "/**/", StringComparison.Ordinal);
        }

        if (CountInnerDoubleStars(p) > MaxInnerDoubleStars)
        {
            throw FilterRuleParser.Error(text, source, line, $"more than {MaxInnerDoubleStars} '/**/' in one pattern (each doubles the rules it becomes)");
        }

        FilterRuleType type = include ? FilterRuleType.Include : FilterRuleType.Exclude;
        foreach (string alternative in ExpandInnerDoubleStars(p))
        {
            string pattern = (anchored ? "/" : string.Empty) + alternative + (directoryOnly ? "/" : string.Empty);
            yield return FilterRuleParser.Create(type, pattern, FilterModifiers.None, text, source, line, null);
        }
    }

    private static int CountInnerDoubleStars(string pattern)
    {
        int count = 0;
        for (int at = pattern.IndexOf("/**/", StringComparison.Ordinal); at >= 0; at = pattern.IndexOf("/**/", at + 3, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>git's "a/**/b" also matches "a/b"; rsync's needs at least one directory between, so both forms are
    /// emitted for each inner "/**/".</summary>
    private static List<string> ExpandInnerDoubleStars(string pattern)
    {
        var results = new List<string> { pattern };
        int at = pattern.IndexOf("/**/", StringComparison.Ordinal);
        if (at < 0)
        {
            return results;
        }

        results.Clear();
        foreach (string rest in ExpandInnerDoubleStars(pattern[(at + 4)..]))
        {
            results.Add(pattern[..at] + "/" + rest);
            results.Add(pattern[..at] + "/**/" + rest);
        }

        return results;
    }

    private static string TrimTrailingSpaces(string text)
    {
        int end = text.Length;
        while (end > 0 && text[end - 1] == ' ' && !(end > 1 && text[end - 2] == '\\'))
        {
            end--;
        }

        return text[..end];
    }

    private static string Unescape(string pattern)
    {
        if (!pattern.Contains('\\', StringComparison.Ordinal))
        {
            return pattern;
        }

        var text = new StringBuilder(pattern.Length);
        for (int i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\' && i + 1 < pattern.Length)
            {
                i++;
            }

            text.Append(pattern[i]);
        }

        return text.ToString();
    }
}
