using CsCheck;

namespace PSReplica.Engine.Tests.Filtering;

/// <summary>FilterRule rejects most paths by their literal prefix, suffix and longest literal run before running the
/// matcher; these properties check it against a plain model of rsync's rule matching that tries every candidate.</summary>
public sealed class FilterRuleFastRejectTests
{
    private static readonly Gen<string> s_pattern =
        Gen.OneOf("a", "b", "ab", "ba", "/", "*", "**", "?", "[ab]", "\\*", ".o", "x").Array[1, 6].Select(string.Concat)
            .Select(Gen.OneOf("", "/"), Gen.OneOf("", "/", "/***"), (body, head, tail) => head + body + tail)
            .Where(IsUsable);

    private static readonly Gen<string> s_path =
        Gen.OneOf("a", "b", "ab", "ba", "x", ".o", "*", "ab.o").Array[1, 4].Select(parts => string.Join('/', parts));

    [Fact]
    public void Fast_rejects_never_change_the_result()
    {
        Gen.Select(s_pattern, s_path, Gen.Bool).Sample(
            (pattern, path, isDirectory) => FilterRule.Exclude(pattern).IsMatch(path, isDirectory) == Model(pattern, path, isDirectory),
            iter: 100_000);
    }

    private static bool IsUsable(string pattern)
    {
        try
        {
            _ = FilterRule.Exclude(pattern);
            return true;
        }
        catch (SyncException)
        {
            return false;
        }
    }

    /// <summary>rsync's rule matching, every candidate tried with the reference wildmatch.</summary>
    private static bool Model(string pattern, string path, bool isDirectory)
    {
        string p = pattern;
        bool contents = false;
        if (p.EndsWith("/***", StringComparison.Ordinal) || p == "***")
        {
            contents = true;
            p = p[..^3];
        }

        bool directoryOnly = false;
        if (p.Length > 1 && p.EndsWith('/'))
        {
            directoryOnly = true;
            p = p[..^1];
        }

        bool anchored = p.StartsWith('/');
        if (anchored)
        {
            p = p[1..];
        }

        bool fullPath = anchored || p.Contains('/', StringComparison.Ordinal) || p.Contains("**", StringComparison.Ordinal);
        p = p.TrimEnd('/');
        bool literal = !contents && p.AsSpan().IndexOfAny("*?[") < 0;

        bool Text(string text) =>
            literal ? text == p : ReferenceWildmatch.Match(p, text) || (!anchored && p.StartsWith("**", StringComparison.Ordinal) && ReferenceWildmatch.Match(p, "/" + text));

        bool Candidate(string candidate)
        {
            if (anchored)
            {
                return Text(candidate);
            }

            if (!fullPath)
            {
                return Text(candidate[(candidate.LastIndexOf('/') + 1)..]);
            }

            for (int start = 0; ; )
            {
                if (Text(candidate[start..]))
                {
                    return true;
                }

                int next = candidate.IndexOf('/', start);
                if (next < 0)
                {
                    return false;
                }

                start = next + 1;
            }
        }

        if (contents)
        {
            if (p.Length == 0)
            {
                return true;
            }

            for (int end = isDirectory ? path.Length : path.LastIndexOf('/'); end > 0; end = path.LastIndexOf('/', end - 1))
            {
                if (Candidate(path[..end]))
                {
                    return true;
                }
            }

            return false;
        }

        return (!directoryOnly || isDirectory) && Candidate(path);
    }
}
