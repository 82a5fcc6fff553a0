using System.Text;
using PSReplica.Engine.Endpoints;

namespace PSReplica.Engine.Scanning;

/// <summary>Several sources as one tree for the planner (rsync's <c>SRC1/ SRC2/ FILE DEST/</c>). The root lists every
/// directory source's entries and every other source itself. A name that several sources hold as directories is one
/// directory, listed as the merge of theirs at any depth, with the first source's attributes (rsync keeps the first of
/// duplicate directories too). A name that several sources hold otherwise (two files, a file and a directory) is a clash:
/// rsync would silently keep the first, here the run stops before anything is touched (<see cref="ThrowIfClashed"/>).
/// The first source's entry is listed meanwhile, and the clash counts only once the planner selects the name (an
/// excluded name clashes with nothing). Entries keep their full paths under their own source, which is how the sender
/// finds each one's root. A directory that only one source holds is listed by the inner lister alone, at no cost.
/// Used on the planner's thread only.</summary>
internal sealed class MergedSourceLister : ITreeLister
{
    private const int ClashesNamed = 10;

    private readonly SourceSet _sources;
    private readonly ITreeLister _inner;
    private readonly bool _followLinks;
    private readonly Func<string, string?> _readFilterFile;

    // Directories that several sources make up, by relative path ("" is the root): each source's part.
    private readonly Dictionary<string, Part[]> _shared = new(StringComparer.Ordinal);

    // The same by the path the planner names them with (the first part's), for their per-directory filter files.
    private readonly Dictionary<string, (string Relative, Part[] Parts)> _sharedByPath = new(StringComparer.Ordinal);

    // Names several sources hold not all as directories, until the planner selects or passes them.
    private readonly Dictionary<string, Part[]> _clashing = new(StringComparer.Ordinal);
    private readonly List<(string Relative, Part[] Parts)> _clashes = [];

    public MergedSourceLister(SourceSet sources, ITreeLister inner, bool followLinks)
    {
        _sources = sources;
        _inner = inner;
        _followLinks = followLinks;
        Func<string, string?> read = inner.FilterFileReader ?? FilterContext.ReadIfPresent;
        _readFilterFile = path => ReadFilterFile(path, read);
        var root = new Part[sources.Members.Count];
        for (int i = 0; i < root.Length; i++)
        {
            FileEntry entry = sources.Members[i].Entry;
            root[i] = new Part(entry, i, Listed: entry.IsDirectory);
        }

        _shared[string.Empty] = root;
        _sharedByPath[sources.Root.FullPath] = (string.Empty, root);
    }

    public Func<string, string?>? FilterFileReader => _readFilterFile;

    public bool ResolvesLinks => _inner.ResolvesLinks;

    public UInt128? Checksum(FileEntry entry) => _inner.Checksum(entry);

    public Metadata.ExtendedAttributeSet? ExtendedAttributes(FileEntry entry, Metadata.XattrScope scope) => _inner.ExtendedAttributes(entry, scope);

    public List<FileEntry> List(string fullPath, string relative) => List(fullPath, relative, null);

    /// <summary>As <see cref="List"/>, each directory below the root listed only while it is the one its parent's listing
    /// named (see <see cref="ITreeLister.ListVerified"/>): this one, or each source's part of a merged one.</summary>
    public List<FileEntry> ListVerified(FileEntry directory, string relative) => List(directory.FullPath, relative, directory);

    private List<FileEntry> List(string fullPath, string relative, FileEntry? expected)
    {
        if (!_shared.TryGetValue(relative, out Part[]? parts))
        {
            return expected is null ? _inner.List(fullPath, relative) : _inner.ListVerified(expected, relative);
        }

        var all = new List<Part>();
        foreach (Part part in parts)
        {
            if (!part.Listed)
            {
                all.Add(part);
                continue;
            }

            // A part below the root is an entry of its source's listing; a root (a source as named) or, with -CopyLinks, a
            // link to a directory is listed by path.
            List<FileEntry> listed = relative.Length > 0 && expected is not null && part.Entry.IsDirectory
                ? _inner.ListVerified(part.Entry, relative)
                : _inner.List(part.Entry.FullPath, relative);
            foreach (FileEntry entry in listed)
            {
                all.Add(new Part(entry, part.Source, Listed: false));
            }
        }

        all.Sort(static (a, b) =>
        {
            int order = string.CompareOrdinal(a.Entry.Name, b.Entry.Name);
            return order != 0 ? order : a.Source.CompareTo(b.Source);
        });
        var merged = new List<FileEntry>(all.Count);
        for (int i = 0; i < all.Count;)
        {
            int end = i + 1;
            while (end < all.Count && string.Equals(all[end].Entry.Name, all[i].Entry.Name, StringComparison.Ordinal))
            {
                end++;
            }

            merged.Add(all[i].Entry);
            if (end - i > 1)
            {
                Group(relative.Length == 0 ? all[i].Entry.Name : relative + "/" + all[i].Entry.Name, all.GetRange(i, end - i));
            }

            i = end;
        }

        return merged;
    }

    /// <summary>The planner transfers <paramref name="relative"/>: if several sources hold it, not all as directories, that
    /// is a clash.</summary>
    public void Selected(string relative)
    {
        if (_clashing.Count > 0 && _clashing.Remove(relative, out Part[]? parts))
        {
            _clashes.Add((relative, parts));
        }
    }

    /// <summary>Ends the run before anything is touched when the planner selected a clashing name.</summary>
    /// <exception cref="SyncException">SourceNameClash, naming the paths and the sources that hold them.</exception>
    public void ThrowIfClashed()
    {
        if (_clashes.Count == 0)
        {
            return;
        }

        var text = new StringBuilder("Several sources hold the same name, and only directories of one name merge: ");
        for (int i = 0; i < _clashes.Count && i < ClashesNamed; i++)
        {
            (string relative, Part[] parts) = _clashes[i];
            text.Append(i == 0 ? "'" : "; '").Append(relative).Append("' is ");
            for (int p = 0; p < parts.Length; p++)
            {
                SourceSet.Member source = _sources.Members[parts[p].Source];
                text.Append(p == 0 ? string.Empty : p == parts.Length - 1 ? " and " : ", ").Append(Describe(parts[p].Entry))
                    .Append(ReferenceEquals(parts[p].Entry, source.Entry) ? " named as the source '" : " in the source '")
                    .Append(source.Path).Append('\'');
            }
        }

        if (_clashes.Count > ClashesNamed)
        {
            text.Append("; and ").Append(_clashes.Count - ClashesNamed).Append(" more");
        }

        text.Append(". Nothing was changed: exclude the name, or replicate those sources in separate runs.");
        throw new SyncException(ErrorIds.SourceNameClash, SyncErrorKind.InvalidArgument, text.ToString(), _clashes[0].Relative);
    }

    private void Group(string relative, List<Part> parts)
    {
        bool directories = true;
        for (int i = 0; i < parts.Count; i++)
        {
            bool listed = IsDirectory(parts[i].Entry);
            parts[i] = parts[i] with { Listed = listed };
            directories &= listed;
        }

        Part[] group = [.. parts];
        if (directories)
        {
            _shared[relative] = group;
            _sharedByPath[group[0].Entry.FullPath] = (relative, group);
        }
        else
        {
            _clashing[relative] = group;
        }
    }

    /// <summary>A directory, or with -CopyLinks a link to one (the planner follows it, and so does its listing).</summary>
    private bool IsDirectory(FileEntry entry) =>
        entry.IsDirectory || (_followLinks && entry.Kind == EntryKind.SymbolicLink
            && DirectoryLister.Stat(entry.FullPath, entry.Name, follow: true, out _) is { IsDirectory: true });

    /// <summary>A per-directory filter file of a directory that one source holds is read as usual. One that several sources
    /// share cannot be honoured as rsync does (each file's rules for its own source's entries only), so it stops the run;
    /// when only files were named there is no directory to read one from (rsync reads none for them either).</summary>
    private string? ReadFilterFile(string path, Func<string, string?> read)
    {
        string directory = Path.GetDirectoryName(path) ?? "/";
        if (!_sharedByPath.TryGetValue(directory, out (string Relative, Part[] Parts) shared))
        {
            return read(path);
        }

        int listed = 0;
        foreach (Part part in shared.Parts)
        {
            listed += part.Listed ? 1 : 0;
        }

        if (listed <= 1)
        {
            // The root of one directory source and named files: that directory's own file (it is the path asked for).
            return listed == 1 ? read(path) : null;
        }

        string name = Path.GetFileName(path);
        string relative = shared.Relative;
        foreach (Part part in shared.Parts)
        {
            string file = Path.Join(part.Entry.FullPath, name);
            if (part.Listed && File.Exists(file))
            {
                throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                    $"The per-directory filter file '{file}' is in '{(relative.Length == 0 ? "." : relative)}', a directory that several "
                    + "sources share: its rules would apply to the other sources' entries too. Keep per-directory filter files in "
                    + "directories that one source holds, or give the rules with -FilterRule.", file);
            }
        }

        return null;
    }

    private static string Describe(FileEntry entry) => entry.Kind switch
    {
        EntryKind.Directory => "a directory",
        EntryKind.SymbolicLink => "a symbolic link",
        EntryKind.File => "a file",
        _ => "a special file",
    };

    /// <summary>One source's share of a listing: an entry, which source it comes from, and whether it is a directory whose
    /// contents are listed (a named file at the root is an entry itself).</summary>
    private readonly record struct Part(FileEntry Entry, int Source, bool Listed);
}
