using System;
using System.Collections.Generic;
using System.Text;

namespace PSReplica;

/// <summary>An ordered list of include/exclude rules; the first rule that matches a path decides, and a path
/// no rule matches is included (rsync's filter semantics).</summary>
public sealed class SyncFilter
{
    private readonly FilterRule[] _rules;

    public SyncFilter(IEnumerable<FilterRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = [.. rules];
    }

    /// <summary>A filter that includes everything.</summary>
    public static SyncFilter Empty { get; } = new([]);

    public IReadOnlyList<FilterRule> Rules => _rules;

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

    /// <summary>True when the path is transferred; <paramref name="path"/> is relative to the transfer root.</summary>
    public bool Test(string path, bool isDirectory) => Explain(path, isDirectory)?.Type != FilterRuleType.Exclude;

    /// <summary>The rule that decides the path, or null when no rule matches (the path is included).</summary>
    public FilterRule? Explain(string path, bool isDirectory)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (FilterRule rule in _rules)
        {
            if (rule.IsMatch(path, isDirectory))
            {
                return rule;
            }
        }

        return null;
    }

    private static string TrimDirectory(string path, out bool isDirectory)
    {
        ArgumentNullException.ThrowIfNull(path);
        isDirectory = path.Length > 1 && path.EndsWith('/');
        return isDirectory ? path.TrimEnd('/') : path;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (FilterRule rule in _rules)
        {
            text.Append(rule.Text).Append('\n');
        }

        return text.ToString();
    }
}
