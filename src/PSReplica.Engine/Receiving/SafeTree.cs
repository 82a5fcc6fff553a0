using System.IO.Enumeration;
using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Receiving;

/// <summary>A tree served to the peer, reached only through descriptors: the root is opened once (following links in
/// the root path, which the user chose), and every item below it by a walk from the root's descriptor that opens each
/// directory with O_NOFOLLOW|O_DIRECTORY (DESIGN.md invariant 2). A link where a directory is expected stops the walk
/// with UnsafePath, so nothing is read or written through a link or outside the root, even if the tree changes
/// between the peer's listing and the request (CVE-2024-12747).</summary>
internal sealed class SafeTree : IDisposable
{
    private const int KeptDirectories = 64;

    private readonly object _gate = new();
    private readonly Dictionary<string, SafeFileHandle> _directories = new(StringComparer.Ordinal);
    private SafeFileHandle? _root;
    private DefaultPermissions? _defaultPermissions;

    public SafeTree(string rootPath) => RootPath = rootPath;

    public string RootPath { get; }

    /// <summary>Whether the tree's names come from a peer (the agent's trees): a link met on the way is then the peer's
    /// unsafe name, which aborts the session; in a tree of this process's own run (a local destination) it is one
    /// item's failure.</summary>
    public bool NamesFromPeer { get; init; } = true;

    /// <summary>How a walk that cannot go on is told: from the path, the part walked, the errno and what stands there
    /// (when it could be read). Null: as the receiver tells it (a link on the way is UnsafePath, anything else
    /// FileWriteError). A sender's tree tells it as a source that changed or vanished.</summary>
    public Func<string, string, int, StatInfo?, SyncException>? WalkFailure { get; init; }

    /// <summary>-Sparse on a receiver (the agent's SparseFiles request): new files written into this tree leave holes
    /// where whole blocks of them are zeros (<see cref="Execution.SparseFiles"/>).</summary>
    public bool Sparse { get; set; }

    /// <summary>A receiver's limit on new items' modes without -Preserve Permissions, per directory of this tree (its
    /// default ACL, else this process's umask): what <see cref="AttributeFields.DefaultPermissions"/> asks for.</summary>
    public DefaultPermissions DefaultPermissions
    {
        get
        {
            lock (_gate)
            {
                return _defaultPermissions ??= new DefaultPermissions(() => this);
            }
        }
    }

    /// <summary>-CopyLinks on a sender (asked for by the controller's listing): links below the root are followed when
    /// walking, listing and reading, as rsync -L follows them. Never set on a receiver: nothing is written through a link.</summary>
    public bool FollowLinks { get; set; }

    /// <summary>What the link at <paramref name="relative"/> points to, or null when it leads nowhere (dangling, a loop,
    /// or unreadable).</summary>
    public StatInfo? StatFollowing(string relative)
    {
        try
        {
            using ParentDirectory parent = OpenParent(relative);
            return Posix.StatAt(parent.Handle, parent.Name, follow: true, out StatInfo stat) == 0 ? stat : null;
        }
        catch (SyncException)
        {
            return null;
        }
    }

    /// <summary>A per-directory filter file's text, or null when there is none (a directory of that name counts as none,
    /// as in rsync). Opened as files are read here, never through a link.</summary>
    /// <exception cref="SyncException">FilterFileUnreadable: a link, not a regular file, larger than
    /// <paramref name="maxBytes"/>, or unreadable.</exception>
    public string? ReadFilterFile(string relative, int maxBytes)
    {
        SafeFileHandle file;
        try
        {
            using ParentDirectory parent = OpenParent(relative);
            if (Posix.StatAt(parent.Handle, parent.Name, out StatInfo found) == Posix.ENOENT || found.FileType == Posix.SIfdir)
            {
                return null;
            }

            file = OpenRegularFile(relative, ErrorIds.FilterFileUnreadable, out StatInfo stat);
            if (stat.Size > maxBytes)
            {
                file.Dispose();
                throw new SyncException(ErrorIds.FilterFileUnreadable, SyncErrorKind.ReadError,
                    $"The per-directory filter file '{relative}' is larger than {maxBytes} bytes.", relative);
            }
        }
        catch (SyncException ex) when (ex.ErrorId != ErrorIds.FilterFileUnreadable)
        {
            throw new SyncException(ErrorIds.FilterFileUnreadable, SyncErrorKind.ReadError,
                $"Cannot read the per-directory filter file '{relative}': {ex.Message}", relative, ex);
        }

        using (file)
        using (var stream = new FileStream(file, FileAccess.Read, 1))
        using (var reader = new StreamReader(stream, System.Text.Encoding.UTF8))
        {
            return reader.ReadToEnd();
        }
    }

    /// <summary>The XXH3-128 of a regular file's content (-Checksum), or null when it cannot be read.</summary>
    public UInt128? Checksum(string relative)
    {
        try
        {
            using SafeFileHandle file = OpenRegularFile(relative, ErrorIds.FileReadError, out _);
            using var stream = new FileStream(file, FileAccess.Read, 1 << 16);
            var hash = new System.IO.Hashing.XxHash128();
            hash.Append(stream);
            return hash.GetCurrentHashAsUInt128();
        }
        catch (Exception ex) when (ex is SyncException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The root's entry, or null when it does not exist.</summary>
    /// <exception cref="SyncException">The root exists but is not a directory or cannot be read.</exception>
    public ListingEntry? DescribeRoot(string errorId)
    {
        int errno = Posix.Stat(RootPath, follow: true, out StatInfo stat);
        if (errno == Posix.ENOENT)
        {
            return null;
        }

        if (errno != 0)
        {
            throw Failure(errno, errorId, "Cannot read", RootPath);
        }

        if (stat.FileType != Posix.SIfdir)
        {
            throw new SyncException(errorId == ErrorIds.SourceNotFound ? ErrorIds.SourceNotDirectory : ErrorIds.DestinationNotDirectory,
                SyncErrorKind.InvalidArgument, $"'{RootPath}' is not a directory.", RootPath);
        }

        return new ListingEntry(string.Empty, stat, null);
    }

    /// <summary>Creates the root (and its missing parents) for a receiver whose destination does not exist yet.</summary>
    public void CreateRoot()
    {
        try
        {
            Directory.CreateDirectory(RootPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SyncException(ErrorIds.DestinationCreateFailed, SyncErrorKind.WriteError,
                $"Cannot create the destination '{RootPath}': {ex.Message}", RootPath, ex);
        }
    }

    private SafeFileHandle Root
    {
        get
        {
            lock (_gate)
            {
                if (_root is null)
                {
                    SafeFileHandle? handle = Posix.Open(RootPath, Posix.OPath | Posix.ODirectory, 0, out int errno);
                    _root = handle ?? throw Failure(errno, ErrorIds.FileReadError, "Cannot open", RootPath);
                }

                return _root;
            }
        }
    }

    /// <summary>Opens the directory that holds <paramref name="relative"/> through no link, also in a tree that follows
    /// them (-CopyLinks on a sender): what changes the source (-RemoveSourceFiles) is never reached through a link, so a
    /// file the copy read through a linked directory, outside the source's own tree, is not removed (nor is it by rsync).
    /// In a tree that follows no link this is <see cref="OpenParent"/>; in one that does, nothing is kept open.</summary>
    public ParentDirectory OpenOwnParent(string relative)
    {
        if (!FollowLinks)
        {
            return OpenParent(relative);
        }

        int slash = relative.LastIndexOf('/');
        return slash < 0
            ? new ParentDirectory(Root, relative, owned: false)
            : new ParentDirectory(Walk(relative, relative.AsSpan(0, slash), followLinks: false), relative[(slash + 1)..], owned: true);
    }

    /// <summary>Opens the directory that holds <paramref name="relative"/>. In a tree of this process's own run the
    /// directories reached are kept open (a few dozen), so the files of one directory cost one walk, not one each; a
    /// directory renamed after it was reached is then written as the moved directory, as rsync does, and never through
    /// a link that took its place.</summary>
    public ParentDirectory OpenParent(string relative)
    {
        int slash = relative.LastIndexOf('/');
        if (slash < 0)
        {
            return new ParentDirectory(Root, relative, owned: false);
        }

        string name = relative[(slash + 1)..];
        if (NamesFromPeer)
        {
            return new ParentDirectory(Walk(relative, relative.AsSpan(0, slash)), name, owned: true);
        }

        string directory = relative[..slash];
        lock (_gate)
        {
            if (_directories.TryGetValue(directory, out SafeFileHandle? kept))
            {
                return ParentDirectory.Lent(kept, name);
            }
        }

        SafeFileHandle opened = Walk(relative, directory);
        lock (_gate)
        {
            if (_directories.TryGetValue(directory, out SafeFileHandle? kept))
            {
                opened.Dispose();
                return ParentDirectory.Lent(kept, name);
            }

            if (_directories.Count >= KeptDirectories)
            {
                CloseKept();
            }

            _directories[directory] = opened;
            return ParentDirectory.Lent(opened, name);
        }
    }

    /// <summary>-Watch: moves the directory <paramref name="from"/> to <paramref name="to"/> within the tree, as its source
    /// was renamed. Both parents are reached by walks that follow no link; the item at <paramref name="from"/> must be a
    /// directory (a final link is not one: stat without following), and the new name must be free (RENAME_NOREPLACE,
    /// so nothing there is ever replaced). A link swapped in between is moved as a link, never followed. 0, or an errno
    /// (ENOENT for nothing there, a missing parent on either path included, ENOTDIR for what is not a directory, EEXIST
    /// for a taken name).</summary>
    /// <exception cref="SyncException">UnsafePath or another failure on the way to either parent.</exception>
    public int MoveDirectory(string from, string to)
    {
        // -Watch's source may have moved the directory into one the destination does not have yet: ENOENT, not a failure.
        if (!TryOpenParent(from, out ParentDirectory source))
        {
            return Posix.ENOENT;
        }

        using (source)
        {
            if (!TryOpenParent(to, out ParentDirectory target))
            {
                return Posix.ENOENT;
            }

            using (target)
            {
                int errno = Posix.StatAt(source.Handle, source.Name, out StatInfo moving);
                if (errno != 0)
                {
                    return errno;
                }

                if (moving.FileType != Posix.SIfdir)
                {
                    return Posix.ENOTDIR;
                }

                errno = Posix.RenameAtNoReplace(source.Handle, source.Name, target.Handle, target.Name);
                if (errno == 0)
                {
                    Forget(from);
                }

                return errno;
            }
        }
    }

    /// <summary>Opens the parent of <paramref name="relative"/>; false when a directory on the way is missing.</summary>
    private bool TryOpenParent(string relative, out ParentDirectory parent)
    {
        try
        {
            parent = OpenParent(relative);
            return true;
        }
        catch (SyncException ex) when (ex.Kind == SyncErrorKind.NotFound)
        {
            parent = default;
            return false;
        }
    }

    /// <summary>Forgets the kept descriptors of <paramref name="relative"/> and everything below it (it was removed).</summary>
    public void Forget(string relative)
    {
        lock (_gate)
        {
            if (_directories.Count == 0)
            {
                return;
            }

            var gone = new List<string>();
            foreach (string directory in _directories.Keys)
            {
                if (directory == relative || (directory.Length > relative.Length && directory[relative.Length] == '/'
                    && directory.StartsWith(relative, StringComparison.Ordinal)))
                {
                    gone.Add(directory);
                }
            }

            foreach (string directory in gone)
            {
                _directories.Remove(directory, out SafeFileHandle? handle);
                handle?.Dispose();
            }
        }
    }

    private void CloseKept()
    {
        foreach (SafeFileHandle handle in _directories.Values)
        {
            handle.Dispose();
        }

        _directories.Clear();
    }

    /// <summary>Opens the directory <paramref name="relative"/> itself ("" is the root).</summary>
    public ParentDirectory OpenDirectory(string relative) =>
        relative.Length == 0 ? new ParentDirectory(Root, string.Empty, owned: false) : new ParentDirectory(Walk(relative, relative), string.Empty, owned: true);

    /// <summary>Opens a regular file for reading without following a link and checks, on the open descriptor, that it is
    /// a regular file (a FIFO or device swapped in is refused too).</summary>
    public SafeFileHandle OpenRegularFile(string relative, string errorId, out StatInfo stat)
    {
        using ParentDirectory parent = OpenParent(relative);
        SafeFileHandle? file = Posix.OpenAt(parent.Handle, parent.Name, Posix.ORdOnly | (FollowLinks ? 0 : Posix.ONoFollow) | Posix.ONonBlock, 0, out int errno);
        if (file is null)
        {
            throw errno == Posix.ELOOP
                ? ProtocolFault.UnsafePath(relative, "it is a symbolic link")
                : Failure(errno, errorId, "Cannot open", relative);
        }

        errno = Posix.StatAt(file, string.Empty, out stat);
        if (errno != 0 || stat.FileType != Posix.SIfreg)
        {
            file.Dispose();
            throw new SyncException(errorId, SyncErrorKind.ReadError, $"'{relative}' is not a regular file.", relative);
        }

        return file;
    }

    /// <summary>A directory's entries in ascending ordinal order, with statx metadata and link targets.</summary>
    public List<ListingEntry> List(string relative)
    {
        using ParentDirectory directory = OpenDirectory(relative);
        var names = new List<string>();
        if (Posix.KeepsNameBytes)
        {
            // The kernel's view of this descriptor: the directory that was opened, wherever its name now points; names as
            // their bytes (NameCodec).
            List<(string Name, byte Type)>? listed = Posix.ListDirectory(Posix.DescriptorPath(directory.Handle), out int listError);
            if (listed is null)
            {
                throw new SyncException(ErrorIds.ScanError, listError == Posix.EACCES ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
                    $"Cannot read directory '{Shown(relative)}': {Posix.Describe(listError)}", Shown(relative));
            }

            foreach ((string name, _) in listed)
            {
                names.Add(name);
            }
        }
        else
        {
            try
            {
                var options = new EnumerationOptions { IgnoreInaccessible = false, AttributesToSkip = 0, RecurseSubdirectories = false };
                var enumerable = new FileSystemEnumerable<string>(Posix.DescriptorPath(directory.Handle),
                    static (ref FileSystemEntry e) => e.FileName.ToString(), options);
                foreach (string name in enumerable)
                {
                    names.Add(name);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SyncException(ErrorIds.ScanError, ex is UnauthorizedAccessException ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
                    $"Cannot read directory '{Shown(relative)}': {ex.Message}", Shown(relative), ex);
            }
        }

        names.Sort(StringComparer.Ordinal);
        var entries = new List<ListingEntry>(names.Count);
        foreach (string name in names)
        {
            int errno = Posix.StatAt(directory.Handle, name, out StatInfo stat);
            if (errno == Posix.ENOENT && !Posix.KeepsNameBytes && name.Contains('\uFFFD', StringComparison.Ordinal))
            {
                // System.IO decoded a name that is not UTF-8 with replacement: the look-alike names nothing. Said, never skipped.
                throw new SyncException(ErrorIds.NameNotRepresentable, SyncErrorKind.ReadError,
                    $"A name in '{Shown(relative)}' is not valid UTF-8 (shown as '{name}'): the portable file-system backend cannot "
                    + "read or write it; the Linux backend (the default on 64-bit Linux) replicates such names byte for byte.", Shown(relative));
            }

            if (errno == Posix.ENOENT)
            {
                continue;
            }

            if (errno != 0)
            {
                throw Failure(errno, ErrorIds.ScanError, "Cannot read", PeerNames.Join(relative, name));
            }

            string? target = null;
            if (stat.FileType == Posix.SIflnk)
            {
                target = Posix.ReadLinkAt(directory.Handle, name, out errno);
                if (target is null)
                {
                    continue;
                }
            }

            entries.Add(new ListingEntry(name, stat, target));
        }

        return entries;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _root?.Dispose();
            _root = null;
            CloseKept();
        }
    }

    public static SyncException Failure(int errno, string errorId, string what, string relative)
    {
        bool denied = errno is Posix.EACCES or Posix.EPERM;
        SyncErrorKind kind = denied ? SyncErrorKind.PermissionDenied
            : errno is Posix.ENOENT ? SyncErrorKind.NotFound
            : errorId is ErrorIds.FileReadError or ErrorIds.ScanError or ErrorIds.SourceVanished ? SyncErrorKind.ReadError : SyncErrorKind.WriteError;
        string id = denied ? ErrorIds.PermissionDenied
            : errno == Posix.ENOENT && errorId == ErrorIds.FileReadError ? ErrorIds.SourceVanished
            : errorId;
        return new SyncException(id, kind, $"{what} '{Shown(relative)}': {Posix.Describe(errno)}.", Shown(relative));
    }

    private static string Shown(string relative) => relative.Length == 0 ? "." : relative;

    /// <summary>Opens each component of <paramref name="components"/> in turn from the root, never following a link.</summary>
    private SafeFileHandle Walk(string relative, ReadOnlySpan<char> components) => Walk(relative, components, FollowLinks);

    /// <summary>As <see cref="Walk(string, ReadOnlySpan{char})"/>; <paramref name="followLinks"/> false walks through no
    /// link whatever <see cref="FollowLinks"/> says.</summary>
    private SafeFileHandle Walk(string relative, ReadOnlySpan<char> components, bool followLinks)
    {
        SafeFileHandle current = Root;
        bool owned = false;
        int start = 0;
        try
        {
            while (start <= components.Length)
            {
                int slash = components[start..].IndexOf('/');
                int end = slash < 0 ? components.Length : start + slash;
                string name = components[start..end].ToString();
                SafeFileHandle? next = Posix.OpenAt(current, name, Posix.OPath | Posix.ODirectory | (followLinks ? 0 : Posix.ONoFollow), 0, out int errno);
                if (next is null)
                {
                    string walked = components[..end].ToString();
                    if (WalkFailure is not null)
                    {
                        throw WalkFailure(relative, walked, errno, Posix.StatAt(current, name, out StatInfo found) == 0 ? found : null);
                    }

                    if (errno is Posix.ELOOP or Posix.ENOTDIR
                        && Posix.StatAt(current, name, out StatInfo stat) == 0 && stat.FileType == Posix.SIflnk)
                    {
                        throw NamesFromPeer
                            ? ProtocolFault.UnsafePath(relative, $"'{walked}' is a symbolic link, and nothing is written or read through one")
                            : new SyncException(ErrorIds.UnsafePath, SyncErrorKind.InvalidOperation,
                                $"Not following '{walked}' to reach '{relative}': it is a symbolic link now (the tree changed during the run), "
                                + "and nothing is written or read through one.", relative);
                    }

                    throw Failure(errno, ErrorIds.FileWriteError, "Cannot open directory", walked);
                }

                if (owned)
                {
                    current.Dispose();
                }

                current = next;
                owned = true;
                start = end + 1;
            }

            return current;
        }
        catch
        {
            if (owned)
            {
                current.Dispose();
            }

            throw;
        }
    }
}
