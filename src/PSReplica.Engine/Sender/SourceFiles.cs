using System.IO.Hashing;
using PSReplica.Engine.Native;
using PSReplica.Engine.Receiving;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Sender;

/// <summary>The sender's way into a local source tree (DESIGN.md "Sender", invariant 2). A file is opened relative to its
/// parent directory's descriptor, reached by a walk from the source root's descriptor that opens each directory with
/// O_PATH|O_DIRECTORY|O_NOFOLLOW; the file itself is opened with O_NOFOLLOW, and the open descriptor is fstat-checked
/// against what the scan recorded (a regular file, the same device and inode) before a byte is read. A source that
/// changed between the scan and the copy is refused with <see cref="ErrorIds.SourceChangedSinceListing"/> and nothing of
/// it is read: a file or a directory on its path swapped for a symbolic link (CVE-2024-12747), a file swapped for a FIFO
/// or device, and also a file replaced by another regular file (a new inode). rsync re-stats after its open and sends
/// whatever regular file it opened; here the scanned identity is the invariant, so that what is copied is always the
/// file the plan was made from (whose size, time, mode and owner the plan applies), and the next run takes the new one.
/// A file rewritten in place keeps its inode and is sent as it now is, as in rsync.
/// With -CopyLinks the scan followed links deliberately: links on the path and a final link are followed, and the
/// opened file must still be the referent the scan recorded.
/// Thread-safe (copy workers open files concurrently). The walk is the receiver's rooted tree (<see cref="SafeTree"/>),
/// which keeps the directories it reached open, since the plan visits a directory's files one after another: a file
/// beside the one before costs one openat and one fstat.
/// Several sources (Scanning/SourceSet.cs) are several roots, each a rooted tree of its own: a file is reached from the
/// root it was scanned under (its scanned path is that root joined with its relative path), never from another.</summary>
internal sealed class SourceFiles : IDisposable
{
    private readonly SafeTree[] _trees;
    private readonly bool _followLinks;
    private volatile bool _disposed;

    /// <param name="rootPath">The source root as the scan listed it (links in the root path itself are followed: the
    /// user chose it).</param>
    /// <param name="followLinks">-CopyLinks: the scan followed links, and so does the walk.</param>
    public SourceFiles(string rootPath, bool followLinks)
        : this([rootPath], followLinks)
    {
    }

    /// <param name="rootPaths">The source roots as the scan listed them (SyncPlan.SourceRoots).</param>
    /// <param name="followLinks">-CopyLinks: the scan followed links, and so does the walk.</param>
    public SourceFiles(IReadOnlyList<string> rootPaths, bool followLinks)
    {
        ArgumentNullException.ThrowIfNull(rootPaths);
        _followLinks = followLinks;
        _trees = new SafeTree[rootPaths.Count];
        for (int i = 0; i < _trees.Length; i++)
        {
            _trees[i] = new SafeTree(rootPaths[i]) { NamesFromPeer = false, FollowLinks = followLinks, WalkFailure = WalkFailed };
        }

    }

    /// <summary>Opens the source file <paramref name="relative"/> ('/'-separated, below the root) for reading, checked to
    /// be the file the scan saw as <paramref name="scanned"/>. The caller owns the handle; its position is 0.</summary>
    /// <exception cref="SyncException">SourceChangedSinceListing when it is no longer that file (or a link or a
    /// directory that is no longer one stands on its path); SourceVanished, PermissionDenied or FileReadError when it
    /// cannot be opened.</exception>
    public SafeFileHandle Open(string relative, FileEntry scanned)
    {
        SafeFileHandle? file;
        int errno;
        bool isLink;
        using (ParentDirectory parent = OpenParent(relative, scanned))
        {
            // O_NONBLOCK: a FIFO swapped in must not block the open; it is refused by the type check below.
            file = Posix.OpenAt(parent.Handle, parent.Name, Posix.ORdOnly | Posix.ONonBlock | (_followLinks ? 0 : Posix.ONoFollow), 0, out errno);
            // ELOOP from O_NOFOLLOW on one name in its directory's descriptor means that name was a link at the open:
            // the answer itself, not a second look that a link flipped back since would contradict.
            isLink = file is null && errno == Posix.ELOOP && !_followLinks;
        }

        if (file is null)
        {
            throw isLink ? Changed(relative, "it is now a symbolic link") : Failure(errno, relative, relative);
        }

        errno = Posix.StatAt(file, string.Empty, out StatInfo opened);
        string? change = errno != 0 ? null
            : opened.FileType != Posix.SIfreg ? "it is no longer a regular file"
            : opened.Device != scanned.Device || opened.Inode != scanned.Inode ? "it is another file than the one scanned (a new inode)"
            : null;
        if (errno != 0 || change is not null)
        {
            file.Dispose();
            throw change is null ? Failure(errno, relative, relative) : Changed(relative, change);
        }

        return file;
    }

    /// <summary>-Watch: after a copy of <paramref name="relative"/>, that the file is still as the scan saw it (the same file,
    /// size and modification time): a file written while it was copied may have been read half old, half new, and is
    /// not put in place; the write is a change of its own, and the watch copies the file again once it rests.</summary>
    /// <exception cref="SyncException">SourceChangedSinceListing when it changed; what <see cref="Open"/> throws.</exception>
    public void CheckRested(string relative, FileEntry scanned)
    {
        using SafeFileHandle file = Open(relative, scanned);
        if (Posix.StatAt(file, string.Empty, out StatInfo now) == 0
            && (now.Size != scanned.Length || now.MtimeSeconds != scanned.MtimeSeconds || now.MtimeNanoseconds != scanned.MtimeNanoseconds))
        {
            throw Changed(relative, "it was written while it was copied");
        }
    }

    /// <summary>The XXH3-128 of the source file's content, read through <see cref="Open"/>.</summary>
    public UInt128 ContentHash(string relative, FileEntry scanned)
    {
        using SafeFileHandle file = Open(relative, scanned);
        using var stream = new FileStream(file, FileAccess.Read, 1 << 16);
        var hash = new XxHash128();
        hash.Append(stream);
        return hash.GetCurrentHashAsUInt128();
    }

    /// <summary>-RemoveSourceFiles: unlinks <paramref name="relative"/> in its parent directory's handle (reached as
    /// <see cref="Open"/> reaches it, through no link), and only while the name still holds what the scan saw as
    /// <paramref name="scanned"/> (its device and inode, not following a final link). Returns 0 or the errno
    /// (ENOENT when it is gone already).</summary>
    /// <exception cref="SyncException">SourceChangedSinceListing when the name now holds another item, or a link or
    /// non-directory stands on its path.</exception>
    public int Remove(string relative, FileEntry scanned)
    {
        using ParentDirectory parent = OpenOwnParent(relative, scanned);
        int errno = Posix.StatAt(parent.Handle, parent.Name, out StatInfo now);
        if (errno != 0)
        {
            return errno;
        }

        if (now.Device != scanned.Device || now.Inode != scanned.Inode)
        {
            throw Changed(relative, "it is another item than the one scanned");
        }

        return Posix.UnlinkAt(parent.Handle, parent.Name, isDirectory: false);
    }

    /// <summary>-ResetArchive: clears the Windows Archive attribute of <paramref name="relative"/>, reached as
    /// <see cref="Remove"/> reaches it, and only while the name still holds the file the scan saw as
    /// <paramref name="scanned"/>; its other attributes stay as they are now. Returns 0 or the errno.</summary>
    /// <exception cref="SyncException">SourceChangedSinceListing when the name now holds another item.</exception>
    public int ClearArchive(string relative, FileEntry scanned)
    {
        using ParentDirectory parent = OpenOwnParent(relative, scanned);
        int errno = Posix.StatAt(parent.Handle, parent.Name, out StatInfo now);
        if (errno != 0)
        {
            return errno;
        }

        if (now.Device != scanned.Device || now.Inode != scanned.Inode || now.FileType != Posix.SIfreg)
        {
            throw Changed(relative, "it is another item than the one scanned");
        }

        return (now.Attributes & (int)FileAttributes.Archive) == 0 ? 0
            : Posix.SetFileAttributesAt(parent.Handle, parent.Name, now.Attributes & ~(int)FileAttributes.Archive);
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (SafeTree tree in _trees)
        {
            tree.Dispose();
        }
    }

    private ParentDirectory OpenParent(string relative, FileEntry scanned)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return TreeOf(relative, scanned).OpenParent(relative);
    }

    /// <summary>The parent of <paramref name="relative"/> reached through no link, also with -CopyLinks: what changes the
    /// source (removal, the Archive attribute) never acts on a file the copy reached through a linked directory, which is
    /// outside the source's own tree (rsync refuses it too).</summary>
    private ParentDirectory OpenOwnParent(string relative, FileEntry scanned)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return TreeOf(relative, scanned).OpenOwnParent(relative);
    }

    /// <summary>The root <paramref name="scanned"/> was listed under: the one that, joined with the relative path, is its
    /// scanned path.</summary>
    private SafeTree TreeOf(string relative, FileEntry scanned)
    {
        if (_trees.Length == 1)
        {
            return _trees[0];
        }

        foreach (SafeTree tree in _trees)
        {
            if (string.Equals(Path.Join(tree.RootPath, relative), scanned.FullPath, StringComparison.Ordinal))
            {
                return tree;
            }
        }

        throw new InvalidOperationException($"The source file '{scanned.FullPath}' is under none of the source roots as '{relative}'.");
    }

    /// <summary>A directory on the path that is no longer one, or a link swapped in (unless -CopyLinks), is a changed
    /// source; anything else that stops the walk is the file's failure.</summary>
    private SyncException WalkFailed(string relative, string walked, int errno, StatInfo? found) =>
        errno is Posix.ELOOP or Posix.ENOTDIR && found is { } item
            ? item.FileType != Posix.SIflnk ? Changed(relative, $"'{walked}' is no longer a directory")
            : !_followLinks ? Changed(relative, $"'{walked}' is now a symbolic link, and no source file is read through one")
            // -CopyLinks follows links, save where the source is changed (OpenOwnParent), or in a loop.
            : new SyncException(ErrorIds.SourceChangedSinceListing, SyncErrorKind.InvalidOperation,
                $"The source file '{relative}' was reached through the symbolic link '{walked}' (-CopyLinks); nothing is removed or changed through a link.", relative)
            : Failure(errno, relative, walked);

    private static SyncException Changed(string relative, string why) =>
        new(ErrorIds.SourceChangedSinceListing, SyncErrorKind.InvalidOperation,
            $"The source file '{relative}' changed since it was scanned ({why}); it is left alone.", relative);

    private static SyncException Failure(int errno, string relative, string what) => errno switch
    {
        Posix.ENOENT or Posix.ENOTDIR => new SyncException(ErrorIds.SourceVanished, SyncErrorKind.NotFound,
            $"The source file '{relative}' has vanished.", relative),
        Posix.EACCES or Posix.EPERM => new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied,
            $"Cannot read '{what}': permission denied.", relative),
        _ => new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, $"Cannot read '{what}': {Posix.Describe(errno)}.", relative),
    };
}
