using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Filtering;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Scanning;

/// <summary>The local source of a run as the user named it: one directory (the usual case), or several directories and
/// files merged into the destination as rsync merges <c>rsync -a SRC1/ SRC2/ FILE DEST/</c>. A directory gives its
/// contents; anything else (a file, or a symbolic link, which rsync sends as a link when it is named) gives itself,
/// under its own name. Each source keeps its own root: a file is opened from the descriptor of the directory it was
/// found in (<see cref="Roots"/>, <see cref="Sender.SourceFiles"/>), never through another source's.</summary>
internal sealed class SourceSet
{
    private SourceSet(List<Member> members, FileEntry root, bool hasDirectory, List<string> roots)
    {
        Members = members;
        Root = root;
        HasDirectory = hasDirectory;
        Roots = roots;
    }

    /// <summary>The sources in the order named (a source named twice counts once).</summary>
    public IReadOnlyList<Member> Members { get; }

    /// <summary>The planner's root: the first directory source, whose attributes the destination root takes (as rsync
    /// keeps the first of several <c>./</c>). When every source is a file it is only the first file's directory, which
    /// lends the destination nothing (see <see cref="HasDirectory"/>).</summary>
    public FileEntry Root { get; }

    /// <summary>False when every source is a file: the destination root is then not a replica of any directory, so it
    /// takes no attributes and -Delete removes nothing from it (rsync deletes nothing when it is sent only files).</summary>
    public bool HasDirectory { get; }

    /// <summary>One directory source and nothing else: the planner lists it as it is, with no merged view over several
    /// members (and no name two members hold can end the run).</summary>
    public bool IsSingleDirectory => Members.Count == 1 && HasDirectory;

    /// <summary>The directories the sender opens files from: each directory source, and each file source's directory.</summary>
    public IReadOnlyList<string> Roots { get; }

    /// <summary>The directory a remote run may list ahead (the first directory source), or null.</summary>
    public string? ScanRoot => HasDirectory ? Root.FullPath : null;

    /// <summary>Resolves <see cref="SyncOptions.Source"/> and <see cref="SyncOptions.AdditionalSources"/> (full paths or
    /// relative to the current directory); a link in a source's own path is followed when it leads to a directory (the
    /// user chose it), and a link that is the named item itself is that item otherwise.</summary>
    /// <exception cref="SyncException">SourceNotFound or SourceUnreadable for a source; InvalidParameterCombination for a
    /// filter that cannot hold for several roots at once.</exception>
    public static SourceSet Resolve(SyncOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var members = new List<Member>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Add(options.Source);
        foreach (string source in options.AdditionalSources)
        {
            Add(source);
        }

        Member? first = FirstDirectory(members);
        FileEntry root = first?.Entry ?? StandInRoot(members[0]);
        var roots = new List<string> { root.FullPath };
        foreach (Member member in members)
        {
            string directory = member.Entry.IsDirectory ? member.Path : member.Directory;
            if (!roots.Contains(directory))
            {
                roots.Add(directory);
            }
        }

        if (roots.Count > 1)
        {
            foreach (FilterRule rule in options.Filter.Rules)
            {
                if ((rule.Modifiers & FilterModifiers.AbsolutePath) != 0)
                {
                    // Such a rule matches an entry's full path, which is its own source's root joined with the relative path.
                    throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                        $"The filter rule '{rule}' matches absolute paths (the '/' modifier), which differ from one source to "
                        + "the next; with several sources, use rules that match relative paths.", rule.ToString());
                }
            }
        }

        return new SourceSet(members, root, first is not null, roots);

        void Add(string named)
        {
            string path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(named));
            if (seen.Add(path))
            {
                members.Add(ResolveMember(path));
            }
        }
    }

    /// <summary>The planner's lister for these sources: <paramref name="inner"/> itself for one directory, else a merged
    /// view over it (<see cref="MergedSourceLister"/>).</summary>
    public MergedSourceLister? Merge(ITreeLister inner, bool followLinks) =>
        IsSingleDirectory ? null : new MergedSourceLister(this, inner, followLinks);

    private static Member ResolveMember(string path)
    {
        string name = Path.GetFileName(path);
        FileEntry? entry = DirectoryLister.Stat(path, name, follow: true, out int errno);
        if (entry is not { IsDirectory: true })
        {
            // Not a directory, or not reached: the named item itself (a dangling link is one too, as rsync sends it).
            entry = DirectoryLister.Stat(path, name, follow: false, out int own);
            errno = entry is null ? own : 0;
        }

        if (entry is null)
        {
            throw errno is Posix.EACCES or Posix.EPERM
                ? new SyncException(ErrorIds.SourceUnreadable, SyncErrorKind.PermissionDenied, $"The source '{path}' cannot be read: permission denied.", path)
                : new SyncException(ErrorIds.SourceNotFound, SyncErrorKind.NotFound, $"The source '{path}' does not exist.", path);
        }

        if (entry.IsDirectory)
        {
            ProbeReadable(path);
        }

        return new Member(path, entry);
    }

    /// <summary>Whether a source directory can be read, before anything is planned. On Linux it is opened for reading, not
    /// enumerated by System.IO: that stated its first entry by a UTF-8 round trip of the name, and a name whose bytes are
    /// not UTF-8 grew past NAME_MAX there (a legal 250-byte name stopped the whole run). The portable backend's directory
    /// handles open nothing, so there System.IO still reads the first entry.</summary>
    private static void ProbeReadable(string path)
    {
        if (!FileSystemBackend.IsPortable)
        {
            using SafeFileHandle? probe = Posix.Open(path, Posix.ORdOnly | Posix.ODirectory | Posix.OCloExec, 0, out int errno);
            if (probe is null)
            {
                throw new SyncException(ErrorIds.SourceUnreadable, errno is Posix.EACCES or Posix.EPERM ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
                    $"The source '{path}' cannot be read: {Posix.Describe(errno)}.", path);
            }

            return;
        }

        try
        {
            using var first = new DirectoryInfo(path).EnumerateFileSystemInfos().GetEnumerator();
            first.MoveNext();
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new SyncException(ErrorIds.SourceUnreadable, SyncErrorKind.PermissionDenied, $"The source '{path}' cannot be read: {ex.Message}", path, ex);
        }
    }

    /// <summary>When only files were named, the first one's directory stands for the root (its path anchors the filter);
    /// none of its attributes is used.</summary>
    private static FileEntry StandInRoot(Member file)
    {
        FileEntry? directory = DirectoryLister.Stat(file.Directory, Path.GetFileName(file.Directory), follow: true, out int errno);
        return directory ?? throw new SyncException(ErrorIds.SourceUnreadable, SyncErrorKind.ReadError,
            $"The directory of the source '{file.Path}' cannot be read: {Posix.Describe(errno)}.", file.Path);
    }

    private static Member? FirstDirectory(List<Member> members)
    {
        foreach (Member member in members)
        {
            if (member.Entry.IsDirectory)
            {
                return member;
            }
        }

        return null;
    }

    /// <summary>One named source: its full path and what stands there (a directory, links in its path followed; else the
    /// item itself).</summary>
    internal sealed record Member(string Path, FileEntry Entry)
    {
        /// <summary>The directory a file source is in.</summary>
        public string Directory => System.IO.Path.GetDirectoryName(Path) ?? "/";
    }
}
