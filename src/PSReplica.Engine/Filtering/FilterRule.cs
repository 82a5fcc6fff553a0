using System.Text;
using PSReplica.Engine.Filtering;

namespace PSReplica;

/// <summary>One filter rule in rsync's syntax, with where it came from. Matching follows rsync exclude.c:rule_matches
/// (the code is this project's own): the pattern is compiled once, and each path is first checked against the
/// pattern's literal prefix and suffix, so most paths are rejected without running the wildcard matcher.</summary>
public sealed class FilterRule
{
    private const string WildcardCharacters = "*?[\\]";

    private readonly string _match = string.Empty;
    private readonly MatchKind _kind;
    private readonly bool _leadingDoubleStar;
    private readonly string _literalPrefix = string.Empty;
    private readonly string _literalSuffix = string.Empty;
    private readonly string _segmentPrefix = string.Empty;
    private readonly string _requiredLiteral = string.Empty;

    internal FilterRule(FilterRuleType type, string pattern, FilterModifiers modifiers, string? source, int line, string? baseDirectory = null)
    {
        Type = type;
        Pattern = pattern;
        Modifiers = modifiers;
        Source = source;
        Line = line;
        BaseDirectory = string.IsNullOrEmpty(baseDirectory) ? null : baseDirectory;
        if (type is FilterRuleType.Clear or FilterRuleType.Merge or FilterRuleType.DirMerge || (modifiers & FilterModifiers.Xattr) != 0)
        {
            // Not a file-name pattern: never matches a path.
            _kind = MatchKind.Never;
            return;
        }

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

        ValidateClasses(pattern, p);
        MatchesFullPath = p.Contains('/', StringComparison.Ordinal) || p.Contains("**", StringComparison.Ordinal) || Anchored;
        p = p.TrimEnd('/');
        if (Anchored && BaseDirectory is not null && (modifiers & FilterModifiers.AbsolutePath) == 0)
        {
            // A rule from a per-directory file is anchored at that file's directory (rsync prefixes the directory).
            p = p.Length == 0 ? BaseDirectory : BaseDirectory + "/" + p;
        }

        _match = p;
        _kind = MatchesContents || Wildmatch.HasWildcards(_match) ? MatchKind.Wildcard : MatchKind.Literal;
        _leadingDoubleStar = !Anchored && _match.StartsWith("**", StringComparison.Ordinal);
        if (_kind == MatchKind.Literal)
        {
            _literalSuffix = _match;
            _literalPrefix = Anchored ? _match : string.Empty;
        }
        else
        {
            int first = _match.AsSpan().IndexOfAny(WildcardCharacters);
            if (!MatchesContents)
            {
                int last = _match.AsSpan().LastIndexOfAny(WildcardCharacters);
                _literalSuffix = _match[(last + 1)..];
                _literalPrefix = Anchored || !MatchesFullPath ? _match[..first] : string.Empty;
            }

            // A floating path pattern is tried at every component start; only starts with its literal head can match.
            _segmentPrefix = !Anchored && MatchesFullPath && first > 0 ? _match[..first] : string.Empty;
            _requiredLiteral = LongestLiteralRun(_match, _leadingDoubleStar);
        }
    }

    private enum MatchKind
    {
        Literal,
        Wildcard,
        Never,
    }

    public FilterRuleType Type { get; }

    /// <summary>The pattern as written, without the rule prefix; for a merge rule, the file name.</summary>
    public string Pattern { get; }

    /// <summary>The modifier letters given with the rule (or inherited from the merge rule that read it).</summary>
    public FilterModifiers Modifiers { get; }

    /// <summary>The file the rule was read from, if any.</summary>
    public string? Source { get; }

    /// <summary>The rule's line in <see cref="Source"/>, or its position among the rules given inline.</summary>
    public int Line { get; }

    /// <summary>For a rule read from a per-directory (dir-merge) file: that directory, relative to the transfer root;
    /// an anchored pattern is anchored there.</summary>
    public string? BaseDirectory { get; }

    /// <summary>A leading '/' ties the pattern to the transfer root (or to its per-directory file's directory).</summary>
    public bool Anchored { get; }

    /// <summary>A trailing '/' restricts the rule to directories.</summary>
    public bool DirectoryOnly { get; }

    /// <summary>The pattern names a directory path ('/' or '**' inside) rather than a final component.</summary>
    public bool MatchesFullPath { get; }

    /// <summary>The pattern ends in '***': a directory and everything in it.</summary>
    public bool MatchesContents { get; }

    /// <summary>True for the rules that include when they match: include, show and risk.</summary>
    public bool IsInclude => Type is FilterRuleType.Include or FilterRuleType.Show or FilterRuleType.Risk;

    /// <summary>True when the rule affects what the sender transfers (include, exclude, hide, show, or s).</summary>
    public bool AppliesToSender => AppliesTo(FilterSide.Sender, deleteExcluded: false);

    /// <summary>True when the rule affects what the receiver protects from deletion (include, exclude, protect, risk, or r).</summary>
    public bool AppliesToReceiver => AppliesTo(FilterSide.Receiver, deleteExcluded: false);

    public bool IsPerishable => (Modifiers & FilterModifiers.Perishable) != 0;

    /// <summary>The exclude that a merge rule's e modifier adds for its own file; written back as that modifier, so
    /// <see cref="SyncFilter.ToString"/> leaves it out.</summary>
    internal bool ImpliedByMergeRule { get; init; }

    /// <summary>The rule in rsync's filter syntax (short form); it parses back to the same rule.</summary>
    public string Text => Format();

    public static FilterRule Include(string pattern, string? source = null, int line = 0) =>
        new(FilterRuleType.Include, pattern ?? throw new ArgumentNullException(nameof(pattern)), FilterModifiers.None, source, line);

    public static FilterRule Exclude(string pattern, string? source = null, int line = 0) =>
        new(FilterRuleType.Exclude, pattern ?? throw new ArgumentNullException(nameof(pattern)), FilterModifiers.None, source, line);

    /// <summary>Parses one rule in rsync's syntax (<c>- *.o</c>, <c>+/ /etc/x</c>, <c>P keep/</c>, ...). Merge and
    /// clear rules are returned as written; <see cref="SyncFilter.Parse(string[])"/> expands them.</summary>
    /// <exception cref="SyncException">InvalidFilterRule: the rule is malformed.</exception>
    public static FilterRule Parse(string rule, string? source = null, int line = 0)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return FilterRuleParser.ParseOne(rule, source, line);
    }

    public override string ToString() => Text;

    /// <summary>Tests the rule against a '/'-separated path relative to the transfer root (the <c>!</c> modifier
    /// applied; for the <c>/</c> modifier pass the absolute path).</summary>
    public bool IsMatch(string relativePath, bool isDirectory)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        return Matches(relativePath, isDirectory);
    }

    /// <summary>True when the rule takes part on <paramref name="side"/>; with <paramref name="deleteExcluded"/> rsync
    /// turns rules without an s or r modifier into sender-only rules.</summary>
    internal bool AppliesTo(FilterSide side, bool deleteExcluded)
    {
        switch (Type)
        {
            case FilterRuleType.Hide:
            case FilterRuleType.Show:
                return side == FilterSide.Sender;
            case FilterRuleType.Protect:
            case FilterRuleType.Risk:
                return side == FilterSide.Receiver;
            case FilterRuleType.Include:
            case FilterRuleType.Exclude:
                bool sender = (Modifiers & FilterModifiers.SenderSide) != 0;
                bool receiver = (Modifiers & FilterModifiers.ReceiverSide) != 0;
                if (!sender && !receiver)
                {
                    return side == FilterSide.Sender || !deleteExcluded;
                }

                return side == FilterSide.Sender ? sender : receiver;
            default:
                return false;
        }
    }

    internal bool Matches(ReadOnlySpan<char> path, bool isDirectory)
    {
        if (_kind == MatchKind.Never)
        {
            return false;
        }

        return MatchesPattern(path.TrimStart('/'), isDirectory) != ((Modifiers & FilterModifiers.Negate) != 0);
    }

    private bool MatchesPattern(ReadOnlySpan<char> path, bool isDirectory)
    {
        if (!MatchesContents)
        {
            if (DirectoryOnly && !isDirectory)
            {
                return false;
            }

            // Fast rejects, cheapest first: every candidate the matcher would try ends where the path ends, and an
            // anchored or final-component candidate starts at a known place.
            if (!path.EndsWith(_literalSuffix, StringComparison.Ordinal) && !EndsWithAfterSlash(path))
            {
                return false;
            }

            if (_literalPrefix.Length > 0)
            {
                ReadOnlySpan<char> start = Anchored ? path : path[(path.LastIndexOf('/') + 1)..];
                if (!start.StartsWith(_literalPrefix, StringComparison.Ordinal))
                {
                    return false;
                }
            }
        }

        // Every candidate lies within the path (within the name for a final-component pattern), so the pattern's
        // longest literal run must occur there: one vectorised search rejects most of what is left.
        if (_requiredLiteral.Length > 0)
        {
            ReadOnlySpan<char> searched = MatchesFullPath || MatchesContents ? path : path[(path.LastIndexOf('/') + 1)..];
            if (searched.IndexOf(_requiredLiteral, StringComparison.Ordinal) < 0)
            {
                return false;
            }
        }

        if (MatchesContents)
        {
            return MatchesContentsRule(path, isDirectory);
        }

        return Anchored ? MatchText(path) : MatchSuffix(path);
    }

    /// <summary>A leading "**" pattern is also tried against the path with a '/' in front (see MatchText).</summary>
    private bool EndsWithAfterSlash(ReadOnlySpan<char> path) =>
        _leadingDoubleStar && _literalSuffix.Length == path.Length + 1 && _literalSuffix[0] == '/' && path.SequenceEqual(_literalSuffix.AsSpan(1));

    private bool MatchesContentsRule(ReadOnlySpan<char> path, bool isDirectory)
    {
        // "dir/***": the pattern "dir/" (anchored or floating) matched against the path itself when it is a
        // directory, or against any of its ancestors (which are directories).
        if (_match.Length == 0)
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
            ReadOnlySpan<char> candidate = path[start..];
            if (candidate.StartsWith(_segmentPrefix, StringComparison.Ordinal) && MatchText(candidate))
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

        if (!_leadingDoubleStar)
        {
            return false;
        }

        // rsync matches a pattern that starts with "**" against the path with a '/' in front, so "**/foo" also
        // matches a "foo" at the top of the transfer.
        Span<char> buffer = text.Length < 512 ? stackalloc char[text.Length + 1] : new char[text.Length + 1];
        buffer[0] = '/';
        text.CopyTo(buffer[1..]);
        return Wildmatch.Match(_match, buffer);
    }

    /// <summary>The longest run of plain characters in a wildcard pattern (stopping at the first class, which is not
    /// worth parsing here); empty when there is none of two characters or more.</summary>
    private static string LongestLiteralRun(string pattern, bool leadingDoubleStar)
    {
        string best = string.Empty;
        int start = 0;
        for (int i = 0; i <= pattern.Length; i++)
        {
            char c = i < pattern.Length ? pattern[i] : '*';
            if (c is '*' or '?' or '\\' or '[' or ']')
            {
                string run = pattern[start..i];
                if (leadingDoubleStar && run.StartsWith('/'))
                {
                    // "**/x" is also tried against the path with a '/' put in front; that slash is not in the path.
                    run = run[1..];
                }

                if (run.Length > best.Length)
                {
                    best = run;
                }

                if (c is '\\' or '[' or ']')
                {
                    break;
                }

                start = i + 1;
            }
        }

        return best.Length >= 2 ? best : string.Empty;
    }

    private string Format()
    {
        var text = new StringBuilder();
        text.Append(Type switch
        {
            FilterRuleType.Include => '+',
            FilterRuleType.Exclude => '-',
            FilterRuleType.Hide => 'H',
            FilterRuleType.Show => 'S',
            FilterRuleType.Protect => 'P',
            FilterRuleType.Risk => 'R',
            FilterRuleType.Clear => '!',
            FilterRuleType.Merge => '.',
            _ => ':',
        });
        if (Type == FilterRuleType.Clear)
        {
            return text.ToString();
        }

        FilterModifiers m = Modifiers;
        if (Type is FilterRuleType.Merge or FilterRuleType.DirMerge)
        {
            if ((m & FilterModifiers.Cvs) != 0)
            {
                // C implies n, w and -; written as C alone, as it is usually given.
                text.Append('C');
                m &= ~(FilterModifiers.NoInherit | FilterModifiers.WordSplit | FilterModifiers.ExcludeOnly);
            }

            AppendIf(text, m, FilterModifiers.NoInherit, 'n');
            AppendIf(text, m, FilterModifiers.ExcludeSelf, 'e');
            AppendIf(text, m, FilterModifiers.WordSplit, 'w');
            AppendIf(text, m, FilterModifiers.IncludeOnly, '+');
            AppendIf(text, m, FilterModifiers.ExcludeOnly, '-');
        }
        else
        {
            AppendIf(text, m, FilterModifiers.Negate, '!');
        }

        AppendIf(text, m, FilterModifiers.AbsolutePath, '/');
        if (Type is not (FilterRuleType.Hide or FilterRuleType.Show or FilterRuleType.Protect or FilterRuleType.Risk))
        {
            AppendIf(text, m, FilterModifiers.SenderSide, 's');
            AppendIf(text, m, FilterModifiers.ReceiverSide, 'r');
        }

        AppendIf(text, m, FilterModifiers.Perishable, 'p');
        AppendIf(text, m, FilterModifiers.Xattr, 'x');
        return text.Append(' ').Append(Pattern).ToString();

        static void AppendIf(StringBuilder text, FilterModifiers modifiers, FilterModifiers flag, char letter)
        {
            if ((modifiers & flag) != 0)
            {
                text.Append(letter);
            }
        }
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
