namespace PSReplica.Engine.Filtering;

/// <summary>Reads one rule in rsync's filter syntax: a short or long rule name, optional modifiers (after a ',' that
/// is optional for short names), then a single space or '_' and the pattern, which keeps any further spaces.
/// Follows the grammar of rsync's manual (FILTER RULES IN DEPTH, FILTER RULE MODIFIERS); the code is this
/// project's own.</summary>
internal static class FilterRuleParser
{
    private static readonly (string Name, FilterRuleType Type)[] s_longNames =
    [
        ("include", FilterRuleType.Include),
        ("exclude", FilterRuleType.Exclude),
        ("merge", FilterRuleType.Merge),
        ("dir-merge", FilterRuleType.DirMerge),
        ("hide", FilterRuleType.Hide),
        ("show", FilterRuleType.Show),
        ("protect", FilterRuleType.Protect),
        ("risk", FilterRuleType.Risk),
        ("clear", FilterRuleType.Clear),
    ];

    /// <summary>The file a per-directory or merge rule names when it has the C modifier and no name.</summary>
    public const string CvsIgnoreFile = ".cvsignore";

    /// <summary>Splits a rule into its type, modifiers and pattern (or merge-file name); checks the modifiers.</summary>
    /// <exception cref="SyncException">InvalidFilterRule.</exception>
    public static (FilterRuleType Type, FilterModifiers Modifiers, string Pattern) Lex(string text, string? source, int line)
    {
        if (text.Length == 0)
        {
            throw Error(text, source, line, "the rule is empty");
        }

        FilterRuleType type;
        int i;
        bool longName = false;
        (string Name, FilterRuleType Type)? named = null;
        foreach ((string Name, FilterRuleType Type) candidate in s_longNames)
        {
            if (text.StartsWith(candidate.Name, StringComparison.Ordinal)
                && (text.Length == candidate.Name.Length || text[candidate.Name.Length] is ' ' or '_' or ','))
            {
                named = candidate;
                break;
            }
        }

        if (named is { } found)
        {
            type = found.Type;
            i = found.Name.Length;
            longName = true;
        }
        else
        {
            type = text[0] switch
            {
                '+' => FilterRuleType.Include,
                '-' => FilterRuleType.Exclude,
                'H' => FilterRuleType.Hide,
                'S' => FilterRuleType.Show,
                'P' => FilterRuleType.Protect,
                'R' => FilterRuleType.Risk,
                '!' => FilterRuleType.Clear,
                '.' => FilterRuleType.Merge,
                ':' => FilterRuleType.DirMerge,
                _ => throw Error(text, source, line,
                    "it does not start with a rule name (+, -, H, S, P, R, !, ., : or include, exclude, hide, show, protect, risk, clear, merge, dir-merge)"),
            };
            i = 1;
        }

        if (type == FilterRuleType.Clear)
        {
            if (i < text.Length)
            {
                throw Error(text, source, line, "the clear rule ('!') takes no modifiers and no pattern");
            }

            return (type, FilterModifiers.None, string.Empty);
        }

        if (i < text.Length && text[i] == ',')
        {
            i++;
        }
        else if (longName && i < text.Length && text[i] is not (' ' or '_'))
        {
            throw Error(text, source, line, "a long rule name must be followed by ',', a space or '_'");
        }

        FilterModifiers modifiers = FilterModifiers.None;
        for (; i < text.Length && text[i] is not (' ' or '_'); i++)
        {
            FilterModifiers modifier = ModifierFor(type, text[i]);
            if (modifier == FilterModifiers.None)
            {
                throw Error(text, source, line, $"'{text[i]}' at position {i + 1} is not a modifier of a{(type is FilterRuleType.Include or FilterRuleType.Exclude ? "n" : string.Empty)} {Describe(type)} rule");
            }

            modifiers |= modifier;
        }

        string pattern = i < text.Length ? text[(i + 1)..] : string.Empty;
        bool isMerge = type is FilterRuleType.Merge or FilterRuleType.DirMerge;
        if (isMerge)
        {
            if ((modifiers & FilterModifiers.IncludeOnly) != 0 && (modifiers & FilterModifiers.ExcludeOnly) != 0)
            {
                throw Error(text, source, line, "a merge rule cannot have both the + and the - modifier");
            }

            if ((modifiers & FilterModifiers.Cvs) != 0)
            {
                // C reads the file as CVS does: whitespace-separated exclude words, not inherited.
                if ((modifiers & FilterModifiers.IncludeOnly) != 0)
                {
                    throw Error(text, source, line, "the C modifier of a merge rule reads excludes; it cannot be combined with +");
                }

                modifiers |= FilterModifiers.NoInherit | FilterModifiers.WordSplit | FilterModifiers.ExcludeOnly;
                if (pattern.Length == 0)
                {
                    pattern = CvsIgnoreFile;
                }
            }

            if (pattern.Length == 0)
            {
                throw Error(text, source, line, "the merge rule names no file");
            }

            if (pattern.Contains('\0', StringComparison.Ordinal))
            {
                // No file name holds a NUL; the path APIs would throw ArgumentException rather than report the rule.
                throw Error(text, source, line, "the merge rule's file name holds a NUL character");
            }
        }
        else if ((modifiers & FilterModifiers.Cvs) != 0)
        {
            if (pattern.Length > 0)
            {
                throw Error(text, source, line, "the C modifier stands for the CVS ignore list and takes no pattern");
            }
        }
        else if (pattern.Length == 0)
        {
            throw Error(text, source, line, "the rule has no pattern (it ends after the rule name)");
        }

        return (type, modifiers, pattern);
    }

    /// <summary>Parses a single rule; merge, dir-merge and clear rules are returned as they are written.</summary>
    public static FilterRule ParseOne(string text, string? source, int line)
    {
        (FilterRuleType type, FilterModifiers modifiers, string pattern) = Lex(text, source, line);
        if ((modifiers & FilterModifiers.Cvs) != 0 && type is not (FilterRuleType.Merge or FilterRuleType.DirMerge))
        {
            throw Error(text, source, line, "the C modifier expands to the CVS ignore list, many rules; parse it with SyncFilter.Parse");
        }

        return Create(type, pattern, modifiers, text, source, line, baseDirectory: null);
    }

    /// <summary>Builds the rule; a bad pattern becomes InvalidFilterRule naming the rule, its file and line.</summary>
    public static FilterRule Create(FilterRuleType type, string pattern, FilterModifiers modifiers, string text, string? source, int line, string? baseDirectory)
    {
        try
        {
            return new FilterRule(type, pattern, modifiers, source, line, baseDirectory);
        }
        catch (SyncException ex) when (ex.ErrorId == ErrorIds.InvalidFilterPattern)
        {
            throw Error(text, source, line, ex.Message.TrimEnd('.'), ex);
        }
    }

    public static SyncException Error(string text, string? source, int line, string problem, Exception? inner = null)
    {
        string where = source is null ? $"rule {line} given inline" : $"{source}, line {line}";
        return new SyncException(ErrorIds.InvalidFilterRule, SyncErrorKind.InvalidArgument,
            $"Invalid filter rule '{text}' ({where}): {problem}.", text, inner);
    }

    private static FilterModifiers ModifierFor(FilterRuleType type, char letter)
    {
        FilterModifiers modifier = letter switch
        {
            '/' => FilterModifiers.AbsolutePath,
            '!' => FilterModifiers.Negate,
            'C' => FilterModifiers.Cvs,
            's' => FilterModifiers.SenderSide,
            'r' => FilterModifiers.ReceiverSide,
            'p' => FilterModifiers.Perishable,
            'x' => FilterModifiers.Xattr,
            'e' => FilterModifiers.ExcludeSelf,
            'n' => FilterModifiers.NoInherit,
            'w' => FilterModifiers.WordSplit,
            '+' => FilterModifiers.IncludeOnly,
            '-' => FilterModifiers.ExcludeOnly,
            _ => FilterModifiers.None,
        };
        const FilterModifiers Pattern = FilterModifiers.AbsolutePath | FilterModifiers.Negate | FilterModifiers.Perishable | FilterModifiers.Xattr;
        const FilterModifiers Sides = FilterModifiers.SenderSide | FilterModifiers.ReceiverSide;
        const FilterModifiers Merge = FilterModifiers.IncludeOnly | FilterModifiers.ExcludeOnly | FilterModifiers.Cvs | FilterModifiers.ExcludeSelf
            | FilterModifiers.NoInherit | FilterModifiers.WordSplit | FilterModifiers.AbsolutePath | Sides | FilterModifiers.Perishable | FilterModifiers.Xattr;
        FilterModifiers allowed = type switch
        {
            FilterRuleType.Include or FilterRuleType.Exclude => Pattern | Sides | FilterModifiers.Cvs,
            FilterRuleType.Hide or FilterRuleType.Show or FilterRuleType.Protect or FilterRuleType.Risk => Pattern,
            FilterRuleType.Merge or FilterRuleType.DirMerge => Merge,
            _ => FilterModifiers.None,
        };
        return modifier & allowed;
    }

    private static string Describe(FilterRuleType type) => type switch
    {
        FilterRuleType.Include => "include",
        FilterRuleType.Exclude => "exclude",
        FilterRuleType.Hide => "hide",
        FilterRuleType.Show => "show",
        FilterRuleType.Protect => "protect",
        FilterRuleType.Risk => "risk",
        FilterRuleType.Merge => "merge",
        FilterRuleType.DirMerge => "dir-merge",
        _ => "clear",
    };
}
