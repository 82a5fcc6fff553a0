namespace PSReplica.Engine.Filtering;

/// <summary>Builds an ordered rule list the way rsync does while it reads its filter options and files: a clear rule
/// empties what came before, a merge rule is replaced by the rules of its file (read once), a <c>-C</c> rule by the
/// CVS ignore list, and a dir-merge rule stays as the place where per-directory rules will be consulted.</summary>
internal sealed class FilterListBuilder
{
    private const int MaxMergeDepth = 16;

    private readonly List<FilterRule> _rules;
    private readonly string? _workingDirectory;
    private readonly string? _baseDirectory;
    private int _depth;

    /// <param name="rules">The list to append to (its rules come first; a clear rule empties it).</param>
    /// <param name="workingDirectory">Where relative merge-file names are found.</param>
    /// <param name="baseDirectory">For a per-directory file: its directory relative to the transfer root.</param>
    public FilterListBuilder(List<FilterRule> rules, string? workingDirectory, string? baseDirectory = null)
    {
        _rules = rules;
        _workingDirectory = workingDirectory;
        _baseDirectory = baseDirectory;
    }

    /// <summary>True when a clear rule was read: in a per-directory file it also drops the inherited rules.</summary>
    public bool Cleared { get; private set; }

    public List<FilterRule> Rules => _rules;

    /// <summary>True when a dir-merge rule already in the list reads files of <paramref name="pattern"/>'s name.</summary>
    private bool ReadsSameFile(string pattern)
    {
        ReadOnlySpan<char> name = FileName(pattern);
        foreach (FilterRule rule in _rules)
        {
            if (rule.Type == FilterRuleType.DirMerge && FileName(rule.Pattern).SequenceEqual(name))
            {
                return true;
            }
        }

        return false;

        static ReadOnlySpan<char> FileName(string path) => path.AsSpan(path.LastIndexOf('/') + 1);
    }

    /// <summary>Parses and adds one rule in rsync's syntax.</summary>
    public void AddRule(string text, string? source, int line, FilterModifiers defaults = FilterModifiers.None)
    {
        (FilterRuleType type, FilterModifiers modifiers, string pattern) = FilterRuleParser.Lex(text, source, line);
        const FilterModifiers Sides = FilterModifiers.SenderSide | FilterModifiers.ReceiverSide;
        if ((defaults & Sides) != 0
            && ((modifiers & Sides) != 0 || type is FilterRuleType.Hide or FilterRuleType.Show or FilterRuleType.Protect or FilterRuleType.Risk))
        {
            throw FilterRuleParser.Error(text, source, line, "the merge rule that read this file already chose the side (s or r); its rules cannot choose one");
        }

        switch (type)
        {
            case FilterRuleType.Clear:
                Clear();
                return;

            case FilterRuleType.Merge:
                AddMergeFile(pattern, modifiers | (defaults & ~FilterModifiers.Negate), text, source, line);
                return;

            case FilterRuleType.DirMerge:
                if (ReadsSameFile(pattern))
                {
                    // rsync reads each per-directory file name under its first dir-merge rule only, and drops a later one
                    // (exclude.c, by the name after the last '/'): ':e .rsync-filter' with -UseFilterFiles reads it once.
                    return;
                }

                if ((modifiers & FilterModifiers.ExcludeSelf) != 0)
                {
                    // rsync checks the file's own name before any rule read from it.
                    _rules.Add(SelfExclude(pattern, modifiers, text, source, line));
                }

                _rules.Add(FilterRuleParser.Create(type, pattern, modifiers | defaults, text, source, line, null));
                return;
        }

        if (type is FilterRuleType.Include or FilterRuleType.Exclude)
        {
            modifiers |= defaults;
            if ((modifiers & FilterModifiers.Cvs) != 0)
            {
                CvsIgnoreList.AddTo(_rules, type, modifiers);
                return;
            }
        }
        else
        {
            modifiers |= defaults & ~Sides;
        }

        _rules.Add(FilterRuleParser.Create(type, pattern, modifiers, text, source, line, _baseDirectory));
    }

    /// <summary>Adds the rules of a merge file's text, as the merge rule's modifiers say to read it.</summary>
    public void AddFileContent(string content, string source, FilterModifiers mergeModifiers)
    {
        FilterModifiers defaults = mergeModifiers & (FilterModifiers.AbsolutePath | FilterModifiers.SenderSide | FilterModifiers.ReceiverSide
            | FilterModifiers.Perishable | FilterModifiers.Xattr);
        FilterRuleType? only = (mergeModifiers & FilterModifiers.IncludeOnly) != 0 ? FilterRuleType.Include
            : (mergeModifiers & FilterModifiers.ExcludeOnly) != 0 ? FilterRuleType.Exclude
            : null;
        bool cvs = (mergeModifiers & FilterModifiers.Cvs) != 0;
        foreach ((string item, int line) in Split(content, (mergeModifiers & FilterModifiers.WordSplit) != 0))
        {
            if (only is { } fixedType)
            {
                if (cvs && item == "!")
                {
                    Clear();
                    continue;
                }

                _rules.Add(FilterRuleParser.Create(fixedType, item, defaults, item, source, line, _baseDirectory));
            }
            else
            {
                AddRule(item, source, line, defaults);
            }
        }
    }

    /// <summary>Adds an --exclude-from/--include-from file: one pattern a line, "- " and "+ " prefixes honoured,
    /// "!" clears, ';' and '#' start comments.</summary>
    public void AddPatternFile(string content, string source, FilterRuleType defaultType)
    {
        foreach ((string item, int line) in Split(content, wordSplit: false))
        {
            if (item == "!")
            {
                Clear();
            }
            else if (item.StartsWith("- ", StringComparison.Ordinal))
            {
                _rules.Add(FilterRuleParser.Create(FilterRuleType.Exclude, item[2..], FilterModifiers.None, item, source, line, _baseDirectory));
            }
            else if (item.StartsWith("+ ", StringComparison.Ordinal))
            {
                _rules.Add(FilterRuleParser.Create(FilterRuleType.Include, item[2..], FilterModifiers.None, item, source, line, _baseDirectory));
            }
            else
            {
                _rules.Add(FilterRuleParser.Create(defaultType, item, FilterModifiers.None, item, source, line, _baseDirectory));
            }
        }
    }

    /// <summary>Reads a file named by a merge rule or a parameter.</summary>
    public static string ReadFile(string path, string? text, string? source, int line)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string why = ex is FileNotFoundException or DirectoryNotFoundException ? "it does not exist" : ex.Message;
            string where = text is null ? string.Empty : source is null ? $" (named by the rule '{text}', rule {line} given inline)" : $" (named by the rule '{text}' in {source}, line {line})";
            throw new SyncException(ErrorIds.FilterFileUnreadable, ex is UnauthorizedAccessException ? SyncErrorKind.PermissionDenied : SyncErrorKind.NotFound,
                $"Cannot read the filter file '{path}'{where}: {why}.", path, ex);
        }
    }

    private void AddMergeFile(string name, FilterModifiers modifiers, string text, string? source, int line)
    {
        if (++_depth > MaxMergeDepth)
        {
            throw FilterRuleParser.Error(text, source, line, $"merge files nest more than {MaxMergeDepth} deep (a file merging itself?)");
        }

        try
        {
            string path = _workingDirectory is null ? Path.GetFullPath(name) : Path.GetFullPath(name, _workingDirectory);
            if ((modifiers & FilterModifiers.ExcludeSelf) != 0)
            {
                // A merge file is read here and now, so its e exclude is an ordinary rule.
                _rules.Add(FilterRuleParser.Create(FilterRuleType.Exclude, Path.GetFileName(name), FilterModifiers.None, text, source, line, null));
            }

            AddFileContent(ReadFile(path, text, source, line), path, modifiers);
        }
        finally
        {
            _depth--;
        }
    }

    private static FilterRule SelfExclude(string pattern, FilterModifiers modifiers, string text, string? source, int line)
    {
        FilterRule rule = FilterRuleParser.Create(FilterRuleType.Exclude, Path.GetFileName(pattern),
            modifiers & (FilterModifiers.SenderSide | FilterModifiers.ReceiverSide), text, source, line, null);
        return new FilterRule(rule.Type, rule.Pattern, rule.Modifiers, source, line) { ImpliedByMergeRule = true };
    }

    private void Clear()
    {
        _rules.Clear();
        Cleared = true;
    }

    /// <summary>The non-empty, non-comment lines of a file (or its words), with their line numbers.</summary>
    private static IEnumerable<(string Item, int Line)> Split(string content, bool wordSplit)
    {
        int line = 0;
        foreach (string raw in content.Split('\n'))
        {
            line++;
            string text = raw.TrimEnd('\r');
            if (wordSplit)
            {
                foreach (string word in text.Split([' ', '\t', '\f', '\v'], StringSplitOptions.RemoveEmptyEntries))
                {
                    yield return (word, line);
                }

                continue;
            }

            if (text.Length == 0 || text[0] is '#' or ';')
            {
                continue;
            }

            yield return (text, line);
        }
    }
}
