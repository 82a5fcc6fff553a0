using System.Text;
using PSReplica.Engine.Filtering;

namespace PSReplica;

/// <summary>An ordered list of filter rules in rsync's language; the first rule that matches a path decides, and a
/// path no rule matches is included. Dir-merge rules stay in the list as the place where the rules of per-directory
/// files are consulted; <see cref="CreateContext"/> gives the evaluator that reads those files while a tree is walked.</summary>
public sealed class SyncFilter
{
    private readonly FilterRule[] _rules;
    private FilterContext? _senderView;
    private FilterContext? _receiverView;

    public SyncFilter(IEnumerable<FilterRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = [.. rules];
        foreach (FilterRule rule in _rules)
        {
            ArgumentNullException.ThrowIfNull(rule, nameof(rules));
            HasDirMerge |= rule.Type == FilterRuleType.DirMerge;
        }
    }

    /// <summary>A filter that includes everything.</summary>
    public static SyncFilter Empty { get; } = new([]);

    public IReadOnlyList<FilterRule> Rules => _rules;

    /// <summary>True when some rule reads per-directory files (dir-merge).</summary>
    public bool HasDirMerge { get; }

    /// <summary>Builds rules as rsync would from --include (placed first, so they win) and --exclude options.</summary>
    public static SyncFilter FromPatterns(IEnumerable<string>? include, IEnumerable<string>? exclude)
    {
        var rules = new List<FilterRule>();
        int line = 0;
        foreach (string pattern in include ?? [])
        {
            rules.Add(FilterRule.Include(pattern, null, ++line));
        }

        foreach (string pattern in exclude ?? [])
        {
            rules.Add(FilterRule.Exclude(pattern, null, ++line));
        }

        return new SyncFilter(rules);
    }

    /// <summary>Parses rules in rsync's filter syntax, as rsync reads --filter options: clear rules empty the list,
    /// merge rules are replaced by their file's rules, <c>-C</c> by the CVS ignore list. Relative merge-file names are
    /// found from <paramref name="workingDirectory"/> (default: the process's current directory).</summary>
    /// <exception cref="SyncException">InvalidFilterRule or FilterFileUnreadable.</exception>
    public static SyncFilter Parse(IEnumerable<string> rules, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var builder = new FilterListBuilder([], workingDirectory);
        int line = 0;
        foreach (string rule in rules)
        {
            builder.AddRule(rule ?? string.Empty, null, ++line);
        }

        return new SyncFilter(builder.Rules);
    }

    /// <inheritdoc cref="Parse(IEnumerable{string}, string?)"/>
    public static SyncFilter Parse(params string[] rules) => Parse((IEnumerable<string>)rules);

    /// <summary>A filter whose rules are this one's followed by <paramref name="other"/>'s.</summary>
    public SyncFilter Append(SyncFilter other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new SyncFilter([.. _rules, .. other._rules]);
    }

    /// <summary>True when the path is transferred; a trailing '/' marks a directory.</summary>
    public bool Test(string path) => Test(TrimDirectory(path, out bool isDirectory), isDirectory);

    /// <summary>The rule that decides the path (a trailing '/' marks a directory), or null.</summary>
    public FilterRule? Explain(string path) => Explain(TrimDirectory(path, out bool isDirectory), isDirectory);

    /// <summary>True when the sender transfers the path; <paramref name="path"/> is relative to the transfer root.
    /// Per-directory files are not read (use <see cref="CreateContext"/> for that).</summary>
    public bool Test(string path, bool isDirectory) => Test(path, isDirectory, FilterSide.Sender);

    /// <summary>The rule that decides the path on the sender, or null when no rule matches (the path is included).</summary>
    public FilterRule? Explain(string path, bool isDirectory) => Explain(path, isDirectory, FilterSide.Sender);

    /// <summary>On the sender: true when the path is transferred. On the receiver: true when a destination item of
    /// that path is at risk of deletion (false: protected).</summary>
    public bool Test(string path, bool isDirectory, FilterSide side)
    {
        ArgumentNullException.ThrowIfNull(path);
        return View(side).IsIncluded(path, isDirectory);
    }

    /// <summary>The rule that decides the path on <paramref name="side"/>, or null.</summary>
    public FilterRule? Explain(string path, bool isDirectory, FilterSide side)
    {
        ArgumentNullException.ThrowIfNull(path);
        return View(side).Explain(path, isDirectory);
    }

    /// <summary>An evaluator for one side of a transfer that reads the per-directory (dir-merge) files of the
    /// directories it is told to enter. <paramref name="rootPath"/> is that side's transfer root (absolute).</summary>
    public FilterContext CreateContext(FilterSide side, string? rootPath, bool deleteExcluded = false, Func<string, string?>? readFile = null) =>
        new(this, side, rootPath, deleteExcluded, readFile);

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (FilterRule rule in _rules)
        {
            if (!rule.ImpliedByMergeRule)
            {
                text.Append(rule.Text).Append('\n');
            }
        }

        return text.ToString();
    }

    private FilterContext View(FilterSide side) => side == FilterSide.Sender
        ? _senderView ??= new FilterContext(this, side, null, deleteExcluded: false, static _ => null)
        : _receiverView ??= new FilterContext(this, side, null, deleteExcluded: false, static _ => null);

    private static string TrimDirectory(string path, out bool isDirectory)
    {
        ArgumentNullException.ThrowIfNull(path);
        isDirectory = path.Length > 1 && path.EndsWith('/');
        return isDirectory ? path.TrimEnd('/') : path;
    }
}
