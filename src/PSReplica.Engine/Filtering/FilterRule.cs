using System;
using PSReplica.Engine.Filtering;

namespace PSReplica;

/// <summary>One include or exclude rule in rsync's syntax, with where it came from.</summary>
public sealed class FilterRule
{
    private readonly string _match;
    private readonly MatchKind _kind;
    private readonly bool _leadingDoubleStar;

    private FilterRule(FilterRuleType type, string pattern, string? source, int line)
    {
        Type = type;
        Pattern = pattern;
        Source = source;
        Line = line;

        string p = pattern;
        if (p.EndsWith("/***", StringComparison.Ordinal) || p == "***")
        {
            // "dir/***" matches the directory itself and everything below it.
            MatchesContents = true;
            p = p[..^3];
        }

        if (p.Length > 1 && p.EndsWith('/'))
        {
            DirectoryOnly = true;
            p = p[..^1];
        }

        if (p.StartsWith('/'))
        {
            Anchored = true;
            p = p[1..];
        }

        if (p.Length == 0 && !MatchesContents)
        {
            throw new SyncException(ErrorIds.InvalidFilterPattern, SyncErrorKind.InvalidArgument,
                $"The filter pattern '{pattern}' matches nothing: it has no name in it.", pattern);
        }

        MatchesFullPath = p.Contains('/', StringComparison.Ordinal) || p.Contains("**", StringComparison.Ordinal) || Anchored;
        _match = p.TrimEnd('/');
        _kind = MatchesContents ? MatchKind.Wildcard : Wildmatch.HasWildcards(_match) ? MatchKind.Wildcard : MatchKind.Literal;
        _leadingDoubleStar = !Anchored && _match.StartsWith("**", StringComparison.Ordinal);
        ValidateClasses(pattern, _match);
    }

    private enum MatchKind
    {
        Literal,
        Wildcard,
    }

    public FilterRuleType Type { get; }

    /// <summary>The pattern as written, without the rule prefix.</summary>
    public string Pattern { get; }

    /// <summary>The file the rule was read from, if any.</summary>
    public string? Source { get; }

    /// <summary>The rule's line in <see cref="Source"/>, or its position among the rules given inline.</summary>
    public int Line { get; }

    /// <summary>A leading '/' ties the pattern to the transfer root.</summary>
    public bool Anchored { get; }

    /// <summary>A trailing '/' restricts the rule to directories.</summary>
    public bool DirectoryOnly { get; }

    /// <summary>The pattern names a directory path ('/' or '**' inside) rather than a final component.</summary>
    public bool MatchesFullPath { get; }

    /// <summary>The pattern ends in '***': a directory and everything in it.</summary>
    public bool MatchesContents { get; }

    /// <summary>The rule in rsync's filter syntax.</summary>
    public string Text => (Type == FilterRuleType.Include ? "+ " : "- ") + Pattern;

    public static FilterRule Include(string pattern, string? source = null, int line = 0) => new(FilterRuleType.Include, pattern, source, line);

    public static FilterRule Exclude(string pattern, string? source = null, int line = 0) => new(FilterRuleType.Exclude, pattern, source, line);

    public override string ToString() => Text;

    /// <summary>Tests the rule against a '/'-separated path relative to the transfer root.</summary>
    public bool IsMatch(string relativePath, bool isDirectory)
    {
        ReadOnlySpan<char> path = relativePath.AsSpan().TrimStart('/');
        if (MatchesContents)
        {
            return MatchesContentsRule(path, isDirectory);
        }

        if (DirectoryOnly && !isDirectory)
        {
            return false;
        }

        return Anchored ? MatchText(path) : MatchSuffix(path);
    }

    private bool MatchesContentsRule(ReadOnlySpan<char> path, bool isDirectory)
    {
        // "dir/***": the pattern "dir/" (anchored or floating) matched against the path itself when it is a
        // directory, or against any of its ancestors (which are directories).
        string prefix = _match.TrimEnd('/');
        if (prefix.Length == 0)
        {
            return true;
        }

        for (int end = isDirectory ? path.Length : path.LastIndexOf('/'); end > 0;)
        {
            ReadOnlySpan<char> candidate = path[..end];
            if (Anchored ? MatchText(candidate) : MatchSuffix(candidate))
            {
                return true;
            }

            end = candidate.LastIndexOf('/');
        }

        return false;
    }

    /// <summary>A floating pattern: a final-component pattern matches the last name; a path pattern matches the end
    /// of the path at a component boundary.</summary>
    private bool MatchSuffix(ReadOnlySpan<char> path)
    {
        if (!MatchesFullPath)
        {
            int slash = path.LastIndexOf('/');
            return MatchText(slash < 0 ? path : path[(slash + 1)..]);
        }

        for (int start = 0; ;)
        {
            if (MatchText(path[start..]))
            {
                return true;
            }

            int next = path[start..].IndexOf('/');
            if (next < 0)
            {
                return false;
            }

            start += next + 1;
        }
    }

    private bool MatchText(ReadOnlySpan<char> text)
    {
        if (_kind == MatchKind.Literal)
        {
            return text.SequenceEqual(_match);
        }

        if (Wildmatch.Match(_match, text))
        {
            return true;
        }

        // rsync matches a pattern that starts with "**" against the path with a '/' in front, so "**/foo" also
        // matches a "foo" at the top of the transfer.
        return _leadingDoubleStar && text.Length < 4096 && Wildmatch.Match(_match, string.Concat("/", text));
    }

    private static void ValidateClasses(string original, string pattern)
    {
        for (int i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\')
            {
                i++;
            }
            else if (pattern[i] == '[')
            {
                int j = i + 1;
                if (j < pattern.Length && (pattern[j] == '!' || pattern[j] == '^'))
                {
                    j++;
                }

                if (j < pattern.Length && pattern[j] == ']')
                {
                    j++;
                }

                while (j < pattern.Length && pattern[j] != ']')
                {
                    if (pattern[j] == '[' && j + 1 < pattern.Length && pattern[j + 1] == ':' && Wildmatch.PosixClassEnd(pattern, j) is int end and >= 0)
                    {
                        j += end + 4;
                        continue;
                    }

                    j += pattern[j] == '\\' ? 2 : 1;
                }

                if (j >= pattern.Length)
                {
                    throw new SyncException(ErrorIds.InvalidFilterPattern, SyncErrorKind.InvalidArgument,
                        $"The filter pattern '{original}' has a '[' without its closing ']'.", original);
                }

                i = j;
            }
        }
    }
}
