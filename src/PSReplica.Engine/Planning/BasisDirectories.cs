using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Planning;

/// <summary>The run's basis directories (-LinkDest, -CompareDest or -CopyDest): local ones resolved to full paths, or
/// a remote receiver's, opened on the agent and looked up in their listings.</summary>
internal sealed class BasisDirectories
{
    /// <summary>As many basis directories as rsync accepts.</summary>
    public const int MaxDirectories = 20;

    private readonly IBasisLookup? _remote;

    private BasisDirectories(BasisKind kind, List<string> directories, List<int> indexes, IBasisLookup? remote, bool linksSymbolicLinks,
        bool verifiesCopies)
    {
        LinksSymbolicLinks = linksSymbolicLinks;
        VerifiesCopies = verifiesCopies;
        Kind = kind;
        Directories = directories;
        Indexes = indexes;
        _remote = remote;
    }

    public BasisKind Kind { get; }

    /// <summary>Whether -LinkDest can hard-link a symbolic link the basis holds unchanged, as rsync does: on Linux, where
    /// link(2) never follows a link (on either backend), or by an agent with the "link-symlinks" capability. Otherwise the
    /// link is made anew (elsewhere link(2) may follow it; what is linked is checked to be the link all the same).</summary>
    public bool LinksSymbolicLinks { get; }

    /// <summary>Whether a basis directory's file can stand for the copy a source is verified against (-CompareDest with
    /// -RemoveSourceFiles removes a source file the basis holds, as rsync does): local directories, or an agent with the
    /// "verify-basis-copies" capability. Otherwise such a source stays.</summary>
    public bool VerifiesCopies { get; }

    /// <summary>The directories in the order they are tried, as full paths (on the agent's host for a remote receiver).</summary>
    public IReadOnlyList<string> Directories { get; }

    /// <summary>For each directory, its position in the option's list (the agent's tree number for a remote receiver).</summary>
    public IReadOnlyList<int> Indexes { get; }

    /// <summary>How a remote receiver's directories are looked up (null for local ones).</summary>
    internal IBasisLookup? Lookup => _remote;

    /// <summary>Whether the directories are on the agent's host (the executor asks the agent to link or copy from them).</summary>
    public bool IsRemote => _remote is not null;

    /// <summary>What directory number <paramref name="position"/> holds at <paramref name="relative"/> (not following a link,
    /// neither the item nor a directory on the way to it), or null. As the receiver reaches basis files by walks that follow
    /// no link (CVE-2024-12086), a file below a linked directory is not in the basis: it is sent instead (an agent's basis
    /// listing does not descend into a link either).</summary>
    public FileEntry? Find(int position, string relative, string name)
    {
        if (_remote is not null)
        {
            return _remote.Find(Indexes[position], relative);
        }

        int slash = relative.LastIndexOf('/');
        return slash > 0 && !ReachableWithoutLinks(position, relative[..slash])
            ? null
            : DirectoryLister.Stat(Path.Join(Directories[position], relative), name, follow: false, out _);
    }

    // The last directory checked per basis directory: the planner looks up a directory's entries one after the other.
    private readonly Dictionary<int, (string Directory, bool Reachable)> _lastChecked = [];

    /// <summary>Whether every component of <paramref name="directory"/> (relative) below basis directory
    /// <paramref name="position"/> is a directory itself, not a link (lstat of each, the last answer kept).</summary>
    private bool ReachableWithoutLinks(int position, string directory)
    {
        lock (_lastChecked)
        {
            if (_lastChecked.TryGetValue(position, out var last) && string.Equals(last.Directory, directory, StringComparison.Ordinal))
            {
                return last.Reachable;
            }
        }

        bool reachable;
        int end = -1;
        do
        {
            end = directory.IndexOf('/', end + 1);
            string prefix = end < 0 ? directory : directory[..end];
            reachable = Posix.Stat(Path.Join(Directories[position], prefix), follow: false, out StatInfo info) == 0
                && (info.Mode & Posix.SIfmt) == Posix.SIfdir;
        }
        while (reachable && end >= 0);

        lock (_lastChecked)
        {
            _lastChecked[position] = (directory, reachable);
        }

        return reachable;
    }

    /// <summary>Checks the options: as in rsync, the kinds may not be mixed, and at most 20 directories are given.</summary>
    public static (BasisKind Kind, IReadOnlyList<string> Given) Given(SyncOptions options, string destinationRoot)
    {
        int kinds = (options.LinkDest.Count > 0 ? 1 : 0) + (options.CompareDest.Count > 0 ? 1 : 0) + (options.CopyDest.Count > 0 ? 1 : 0);
        if (kinds > 1)
        {
            throw new SyncException(ErrorIds.InvalidBasisDirectories, SyncErrorKind.InvalidArgument,
                "Use only one of -LinkDest, -CompareDest and -CopyDest (each may name several directories).", destinationRoot);
        }

        (BasisKind kind, IReadOnlyList<string> given) = options.LinkDest.Count > 0 ? (BasisKind.Link, options.LinkDest)
            : options.CompareDest.Count > 0 ? (BasisKind.Compare, options.CompareDest)
            : options.CopyDest.Count > 0 ? (BasisKind.Copy, options.CopyDest)
            : (BasisKind.None, options.LinkDest);
        if (given.Count > MaxDirectories)
        {
            throw new SyncException(ErrorIds.InvalidBasisDirectories, SyncErrorKind.InvalidArgument,
                $"At most {MaxDirectories} basis directories may be given (as in rsync).", destinationRoot);
        }

        return (kind, given);
    }

    /// <summary>Reads the options. As in rsync, a relative directory is relative to the destination, and a directory that
    /// does not exist is reported with a warning and otherwise ignored.</summary>
    public static BasisDirectories From(SyncOptions options, string destinationRoot, ISyncObserver observer)
    {
        (BasisKind kind, IReadOnlyList<string> given) = Given(options, destinationRoot);
        var directories = new List<string>(given.Count);
        var indexes = new List<int>(given.Count);
        for (int i = 0; i < given.Count; i++)
        {
            string directory = given[i];
            string full = Path.GetFullPath(Path.IsPathRooted(directory) ? directory : Path.Join(destinationRoot, directory));
            if (Posix.Stat(full, follow: true, out StatInfo info) != 0 || (info.Mode & Posix.SIfmt) != Posix.SIfdir)
            {
                observer.OnWarning($"The basis directory '{directory}' does not exist (resolved to '{full}'); it is ignored.");
                continue;
            }

            directories.Add(full);
            indexes.Add(i);
        }

        return new BasisDirectories(directories.Count > 0 ? kind : BasisKind.None, directories, indexes, remote: null, OperatingSystem.IsLinux(), verifiesCopies: true);
    }

    /// <summary>Basis directories on the agent's host: <paramref name="indexes"/> are the tree numbers the agent opened them
    /// as, <paramref name="lookup"/> finds their files.</summary>
    public static BasisDirectories Remote(BasisKind kind, List<string> directories, List<int> indexes, IBasisLookup lookup, bool linksSymbolicLinks,
        bool verifiesCopies) =>
        new(directories.Count > 0 ? kind : BasisKind.None, directories, indexes, lookup, linksSymbolicLinks, verifiesCopies);
}
