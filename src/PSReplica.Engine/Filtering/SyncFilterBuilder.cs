using PSReplica.Engine.Filtering;

namespace PSReplica;

/// <summary>Builds a <see cref="SyncFilter"/> from rules of several origins in the order they are added, the way
/// rsync reads its --include, --exclude, --filter, --include-from, --exclude-from and -C options: a clear rule
/// (<c>!</c>) empties everything added before it. Inline rules are numbered in the order given.</summary>
public sealed class SyncFilterBuilder
{
    private readonly FilterListBuilder _builder;
    private int _inline;

    /// <param name="workingDirectory">Where relative merge-file names in rules are found (default: the process's).</param>
    public SyncFilterBuilder(string? workingDirectory = null)
    {
        _builder = new FilterListBuilder([], workingDirectory);
    }

    /// <summary>Appends the rules of an existing filter.</summary>
    public SyncFilterBuilder Add(SyncFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        _builder.Rules.AddRange(filter.Rules);
        return this;
    }

    /// <summary>An --include pattern, as rsync takes one: "- " or "+ " before it makes it an exclude or an include rule
    /// (rsync's old-style prefixes, also honoured in pattern files), and "!" alone clears the rules given so far. No
    /// other rule syntax. A malformed pattern throws InvalidFilterPattern.</summary>
    public SyncFilterBuilder AddInclude(string pattern) => AddPattern(pattern, FilterRuleType.Include);

    /// <summary>An --exclude pattern, as rsync takes one (see <see cref="AddInclude"/>).</summary>
    public SyncFilterBuilder AddExclude(string pattern) => AddPattern(pattern, FilterRuleType.Exclude);

    private SyncFilterBuilder AddPattern(string pattern, FilterRuleType type)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (pattern == "!")
        {
            _builder.Rules.Clear();
            return this;
        }

        (type, pattern) = pattern.StartsWith("- ", StringComparison.Ordinal) ? (FilterRuleType.Exclude, pattern[2..])
            : pattern.StartsWith("+ ", StringComparison.Ordinal) ? (FilterRuleType.Include, pattern[2..])
            : (type, pattern);
        _builder.Rules.Add(type == FilterRuleType.Include ? FilterRule.Include(pattern, null, ++_inline) : FilterRule.Exclude(pattern, null, ++_inline));
        return this;
    }

    /// <summary>A --filter rule in rsync's syntax. A malformed rule throws InvalidFilterRule.</summary>
    public SyncFilterBuilder AddRule(string rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        _builder.AddRule(rule, null, ++_inline);
        return this;
    }

    /// <summary>The rules of a file in rsync's filter syntax (a <c>merge</c> rule without modifiers).</summary>
    public SyncFilterBuilder AddMergeFile(string path)
    {
        string full = Path.GetFullPath(path);
        _builder.AddFileContent(FilterListBuilder.ReadFile(full, null, null, 0), full, FilterModifiers.None);
        return this;
    }

    /// <summary>An --exclude-from or --include-from file: one pattern a line, with "- "/"+ " prefixes, "!" and comments.</summary>
    public SyncFilterBuilder AddPatternFile(string path, FilterRuleType defaultType)
    {
        if (defaultType is not (FilterRuleType.Include or FilterRuleType.Exclude))
        {
            throw new ArgumentOutOfRangeException(nameof(defaultType), defaultType, "A pattern file holds include or exclude patterns.");
        }

        string full = Path.GetFullPath(path);
        _builder.AddPatternFile(FilterListBuilder.ReadFile(full, null, null, 0), full, defaultType);
        return this;
    }

    /// <summary>A .gitignore translated to rsync rules (reverse order, '!' as include, git's anchoring); its
    /// directory is taken to be the transfer root.</summary>
    public SyncFilterBuilder AddGitIgnore(string path)
    {
        string full = Path.GetFullPath(path);
        _builder.Rules.AddRange(GitIgnoreTranslator.Translate(FilterListBuilder.ReadFile(full, null, null, 0), full));
        return this;
    }

    /// <summary>rsync's -C: the CVS ignore list (<c>-C</c>) and each directory's .cvsignore (<c>:C</c>).</summary>
    public SyncFilterBuilder AddCvsExclude()
    {
        _builder.AddRule("-C", "-CvsExclude", 1);
        _builder.AddRule(":C", "-CvsExclude", 2);
        return this;
    }

    public SyncFilter Build() => new(_builder.Rules);
}
