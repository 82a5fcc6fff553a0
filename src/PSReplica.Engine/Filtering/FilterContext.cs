using PSReplica.Engine.Filtering;

namespace PSReplica;

/// <summary>Evaluates a <see cref="SyncFilter"/> on one side of a transfer while a tree is walked: the walker calls
/// <see cref="EnterDirectory"/> before it tests a directory's entries and <see cref="LeaveDirectory"/> after, and the
/// context reads each dir-merge file found there and keeps the stack of inherited per-directory rules (rsync's
/// push_local_filters/pop_local_filters; the code is this project's own). Everything it needs is a path and a
/// file reader, so a remote agent runs the same code on its side. Not thread-safe: one context per walk.</summary>
public sealed class FilterContext
{
    private readonly FilterRule[] _rules;
    private readonly FilterSide _side;
    private readonly bool _deleteExcluded;
    private readonly string? _root;
    private readonly Func<string, string?> _readFile;
    private readonly MergeState[] _merges;
    private readonly int[] _mergeIndex;

    // Every dir-merge in effect: the global ones, then those declared by per-directory files of the entered
    // directories (a dir-merge rule inside such a file reads its own files from there down).
    private readonly List<MergeState> _active = [];
    private readonly Dictionary<FilterRule, MergeState> _nested = new(ReferenceEqualityComparer.Instance);
    private int _depth;

    internal FilterContext(SyncFilter filter, FilterSide side, string? rootPath, bool deleteExcluded, Func<string, string?>? readFile)
    {
        ArgumentNullException.ThrowIfNull(filter);
        _side = side;
        _deleteExcluded = deleteExcluded;
        _root = rootPath is null ? null : Path.TrimEndingDirectorySeparator(rootPath);
        _readFile = readFile ?? ReadIfPresent;
        var rules = new List<FilterRule>();
        var merges = new List<MergeState>();
        var index = new List<int>();
        foreach (FilterRule rule in filter.Rules)
        {
            if (rule.Type == FilterRuleType.DirMerge)
            {
                index.Add(merges.Count);
                merges.Add(new MergeState(rule));
                rules.Add(rule);
            }
            else if (rule.AppliesTo(side, deleteExcluded))
            {
                index.Add(-1);
                rules.Add(rule);
            }
        }

        _rules = [.. rules];
        _mergeIndex = [.. index];
        _merges = [.. merges];
        _active.AddRange(_merges);
    }

    public FilterSide Side => _side;

    /// <summary>How many directories are entered.</summary>
    public int Depth => _depth;

    /// <summary>Makes <paramref name="relativeDirectory"/> ('' for the root) the directory whose entries are tested
    /// next, reading its per-directory files from <paramref name="fullPath"/>. Call it for each directory of the
    /// walk, parent before child, and <see cref="LeaveDirectory"/> when done with it.</summary>
    /// <exception cref="SyncException">A per-directory file is malformed (InvalidFilterRule) or unreadable.</exception>
    public void EnterDirectory(string relativeDirectory, string fullPath)
    {
        ArgumentNullException.ThrowIfNull(relativeDirectory);
        ArgumentNullException.ThrowIfNull(fullPath);
        if (_depth == 0)
        {
            _active.Clear();
            _active.AddRange(_merges);
            _nested.Clear();
            foreach (MergeState merge in _merges)
            {
                merge.Frames.Clear();
                PreScanParents(merge, fullPath);
            }
        }

        if (_active.Count == 0)
        {
            _depth++;
            return;
        }

        // Read every file first, so that a bad one leaves the stack as it was. A file may declare further
        // dir-merge rules; their files are read in this directory too, after it.
        var pending = new List<MergeState>(_active);
        var frames = new List<MergeFrame>(pending.Count);
        string relative = relativeDirectory.Trim('/');
        for (int i = 0; i < pending.Count; i++)
        {
            MergeState merge = pending[i];
            string file = Path.Join(fullPath, merge.FileName);
            string? content = _readFile(file);
            MergeFrame frame = content is null ? MergeFrame.Empty : ReadFrame(merge, content, file, relative, _root ?? fullPath);
            frames.Add(frame);
            foreach (FilterRule rule in frame.Rules)
            {
                // A file name that is already read per directory is not read twice (rsync ignores such a rule too),
                // which also keeps a file that declares its own name from recursing.
                if (rule.Type == FilterRuleType.DirMerge && !pending.Exists(m => m.FileName == Path.GetFileName(rule.Pattern)))
                {
                    pending.Add(new MergeState(rule) { ActivatedAtDepth = _depth + 1 });
                }
            }
        }

        // A frame for every merge in every directory, empty when it has no file, so that LeaveDirectory pops in step.
        _depth++;
        for (int i = 0; i < pending.Count; i++)
        {
            MergeState merge = pending[i];
            if (i >= _active.Count)
            {
                _active.Add(merge);
                _nested[merge.Rule] = merge;
            }

            merge.Frames.Add(frames[i]);
        }
    }

    public void LeaveDirectory()
    {
        if (_depth == 0)
        {
            throw new InvalidOperationException("LeaveDirectory without a matching EnterDirectory.");
        }

        for (int i = _active.Count - 1; i >= 0; i--)
        {
            MergeState merge = _active[i];
            if (merge.Frames.Count > 0)
            {
                merge.Frames.RemoveAt(merge.Frames.Count - 1);
            }

            if (merge.ActivatedAtDepth == _depth)
            {
                _active.RemoveAt(i);
                _nested.Remove(merge.Rule);
            }
        }

        _depth--;
        if (_depth == 0)
        {
            foreach (MergeState merge in _merges)
            {
                merge.Frames.Clear();
            }
        }
    }

    /// <summary>On the sender: true when the path is transferred; on the receiver: true when it may be deleted.
    /// <paramref name="ignorePerishable"/> is for the contents of a directory that is being deleted.</summary>
    public bool IsIncluded(string relativePath, bool isDirectory, bool ignorePerishable = false)
    {
        FilterRule? rule = Explain(relativePath, isDirectory, ignorePerishable);
        return rule is null || rule.IsInclude;
    }

    /// <summary>The rule that decides the path, or null when none matches.</summary>
    public FilterRule? Explain(string relativePath, bool isDirectory, bool ignorePerishable = false)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        FilterRule[] rules = _rules;
        for (int i = 0; i < rules.Length; i++)
        {
            FilterRule rule = rules[i];
            int merge = _mergeIndex[i];
            if (merge >= 0)
            {
                FilterRule? decided = ExplainMerge(_merges[merge], relativePath, isDirectory, ignorePerishable);
                if (decided is not null)
                {
                    return decided;
                }
            }
            else if ((!ignorePerishable || !rule.IsPerishable) && Matches(rule, relativePath, isDirectory))
            {
                return rule;
            }
        }

        return null;
    }

    private FilterRule? ExplainMerge(MergeState merge, string relativePath, bool isDirectory, bool ignorePerishable)
    {
        List<MergeFrame> frames = merge.Frames;
        bool inherit = (merge.Rule.Modifiers & FilterModifiers.NoInherit) == 0;
        for (int f = frames.Count - 1; f >= 0; f--)
        {
            MergeFrame frame = frames[f];
            if (f == frames.Count - 1 || inherit)
            {
                foreach (FilterRule rule in frame.Rules)
                {
                    if (rule.Type == FilterRuleType.DirMerge)
                    {
                        if (_nested.TryGetValue(rule, out MergeState? nested)
                            && ExplainMerge(nested, relativePath, isDirectory, ignorePerishable) is { } decided)
                        {
                            return decided;
                        }
                    }
                    else if (rule.AppliesTo(_side, _deleteExcluded) && (!ignorePerishable || !rule.IsPerishable) && Matches(rule, relativePath, isDirectory))
                    {
                        return rule;
                    }
                }
            }

            if (frame.ClearsInherited || !inherit)
            {
                break;
            }
        }

        return null;
    }

    private bool Matches(FilterRule rule, string relativePath, bool isDirectory)
    {
        if ((rule.Modifiers & FilterModifiers.AbsolutePath) != 0 && _root is not null)
        {
            return rule.Matches(relativePath.Length == 0 ? _root : _root + "/" + relativePath.TrimStart('/'), isDirectory);
        }

        return rule.Matches(relativePath, isDirectory);
    }

    /// <remarks>A merge rule inside the file names its file relative to the transfer root, as rsync's sender (which
    /// works from the transfer root) reads it.</remarks>
    private static MergeFrame ReadFrame(MergeState merge, string content, string file, string baseDirectory, string root)
    {
        var builder = new FilterListBuilder([], root, baseDirectory.Length == 0 ? null : baseDirectory);
        builder.AddFileContent(content, file, merge.Rule.Modifiers);
        return new MergeFrame([.. builder.Rules], builder.Cleared);
    }

    /// <summary>A dir-merge name with a directory part ("/.rsync-filter", "../../.rules") also reads the file in each
    /// directory from that one down to the transfer root's parent, before the walk starts (rsync's manual,
    /// MERGE-FILE FILTER RULES). Those files lie outside the transfer, so their anchored rules match nothing.</summary>
    private void PreScanParents(MergeState merge, string rootFullPath)
    {
        string name = merge.Rule.Pattern;
        int slash = name.LastIndexOf('/');
        if (slash < 0)
        {
            return;
        }

        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootFullPath));
        string start = Path.TrimEndingDirectorySeparator(Path.GetFullPath(slash == 0 ? "/" : name[..slash], root));
        if (start == root || !(root.StartsWith(start, StringComparison.Ordinal) && (start == "/" || root[start.Length] == '/')))
        {
            return;
        }

        for (string? directory = start; directory is not null && directory != root;)
        {
            string file = Path.Join(directory, merge.FileName);
            string? content = _readFile(file);
            if (content is not null)
            {
                var builder = new FilterListBuilder([], _root ?? rootFullPath);
                builder.AddFileContent(content, file, merge.Rule.Modifiers);
                merge.Frames.Add(new MergeFrame([.. builder.Rules.FindAll(r => !r.Anchored)], builder.Cleared));
            }

            int next = root.IndexOf('/', directory == "/" ? 1 : directory.Length + 1);
            directory = next < 0 ? null : root[..next];
        }
    }

    internal static string? ReadIfPresent(string path)
    {
        // Most directories have no such file: one stat is far cheaper than a FileNotFoundException per directory.
        // A directory of that name counts as no file, as in rsync.
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SyncException(ErrorIds.FilterFileUnreadable, SyncErrorKind.ReadError,
                $"Cannot read the per-directory filter file '{path}': {ex.Message}", path, ex);
        }
    }

    private sealed class MergeState(FilterRule rule)
    {
        public FilterRule Rule { get; } = rule;

        public string FileName { get; } = Path.GetFileName(rule.Pattern);

        public List<MergeFrame> Frames { get; } = [];

        /// <summary>0 for a global dir-merge rule; else the depth of the directory whose file declared it.</summary>
        public int ActivatedAtDepth { get; init; }
    }

    private sealed class MergeFrame(FilterRule[] rules, bool clearsInherited)
    {
        public static readonly MergeFrame Empty = new([], false);

        public FilterRule[] Rules { get; } = rules;

        public bool ClearsInherited { get; } = clearsInherited;
    }
}
