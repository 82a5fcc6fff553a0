using System.Runtime.CompilerServices;
using System.IO.Enumeration;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Scanning;

/// <summary>Lists one directory: names from getdents64 on the directory's descriptor (the Linux backend; System.IO's
/// enumerator on the portable one), metadata from statx (nanosecond times, no link following).</summary>
internal static class DirectoryLister
{
    private static readonly EnumerationOptions s_options = new()
    {
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
        AttributesToSkip = 0,
        MatchType = MatchType.Simple,
    };

    /// <summary>Directories with at least this many names are stated by several threads (see <see cref="ListOpen"/>).</summary>
    internal const int ParallelStatNames = 4096;

    /// <summary>Names stated in one run by one thread.</summary>
    private const int ParallelStatChunk = 1024;

    /// <summary>Threads that state one large directory at once at most.</summary>
    private const int ParallelStatThreads = 4;

    private static readonly Comparison<FileEntry> s_byName = static (x, y) => string.CompareOrdinal(x.Name, y.Name);

    /// <summary>The directory's entries sorted by ordinal name. Items that vanish between listing and stat are left out.</summary>
    /// <exception cref="SyncException">The directory cannot be read.</exception>
    public static List<FileEntry> List(string directory, string relativeForErrors)
    {
        if (Posix.KeepsNameBytes)
        {
            // Opened as opendir(3) would open it (a link to a directory is followed: the root given may be one); its
            // names are then stated relative to that descriptor.
            using SafeFileHandle handle = Posix.Open(directory, Posix.ORdOnly | Posix.ODirectory, 0, out int openError)
                ?? throw Unreadable(directory, openError, relativeForErrors);
            return ListOpen(handle, directory, relativeForErrors);
        }

        var names = new List<string>();
        ListPortable(directory, relativeForErrors, names);
        return StatSorted(directory, names, relativeForErrors);
    }

    /// <summary>The entries of <paramref name="directory"/> named <paramref name="names"/>, sorted by ordinal name; a
    /// name not there is left out. Each name is stat'ed, the directory not listed (-Watch's batch of a few names in a
    /// large directory); it is opened first, so that one that cannot be read fails as <see cref="List"/> does rather
    /// than look empty, and the names are stated relative to it. With <paramref name="expected"/> (its parent's listing's
    /// entry) it is opened only while it is still that directory, as <see cref="ListVerified"/> opens it.</summary>
    /// <exception cref="SyncException">The directory cannot be read, or is no longer the one listed (ScanError).</exception>
    public static List<FileEntry> ListNames(string directory, IReadOnlySet<string> names, string relativeForErrors, FileEntry? expected = null)
    {
        if (!Posix.KeepsNameBytes)
        {
            return (expected is null ? List(directory, relativeForErrors) : ListVerified(directory, relativeForErrors, expected))
                .FindAll(entry => names.Contains(entry.Name));
        }

        using SafeFileHandle handle = expected is null
            ? Posix.Open(directory, Posix.ORdOnly | Posix.ODirectory | Posix.OCloExec, 0, out int openError) ?? throw Unreadable(directory, openError, relativeForErrors)
            : OpenVerified(directory, relativeForErrors, expected);
        var wanted = new List<string>(names.Count);
        foreach (string name in names)
        {
            // Only a name a listing could hold: never the directory itself or its parent, never a path.
            if (name is not ("" or "." or "..") && !name.Contains('/', StringComparison.Ordinal))
            {
                wanted.Add(name);
            }
        }

        wanted.Sort(StringComparer.Ordinal);
        var entries = new List<FileEntry>(wanted.Count);
        foreach (string name in wanted)
        {
            int errno = StatNamed(handle, directory, name, out FileEntry? entry);
            if (entry is not null)
            {
                entries.Add(entry);
            }
            else if (errno != Posix.ENOENT)
            {
                throw ItemUnreadable(directory, name, errno, relativeForErrors);
            }
        }

        return entries;
    }

    /// <summary>Stats each of <paramref name="names"/> in <paramref name="directory"/> (sorting them); a name gone is left out.</summary>
    private static List<FileEntry> StatSorted(string directory, List<string> names, string relativeForErrors)
    {
        names.Sort(StringComparer.Ordinal);
        var entries = new List<FileEntry>(names.Count);
        foreach (string name in names)
        {
            FileEntry? entry = Stat(Path.Join(directory, name), name, follow: false, out int errno);
            if (entry is not null)
            {
                entries.Add(entry);
            }
            else if (errno == Posix.ENOENT && !Posix.KeepsNameBytes && name.Contains('\uFFFD', StringComparison.Ordinal))
            {
                // System.IO decoded a name that is not UTF-8 with replacement: the look-alike names nothing. Said, never skipped.
                throw new SyncException(ErrorIds.NameNotRepresentable, SyncErrorKind.ReadError,
                    $"A name in '{directory}' is not valid UTF-8 (shown as '{name}'): the portable file-system backend cannot "
                    + "read or write it; the Linux backend (the default on Linux) replicates such names byte for byte.", relativeForErrors);
            }
            else if (errno != Posix.ENOENT)
            {
                throw ItemUnreadable(directory, name, errno, relativeForErrors);
            }
        }

        return entries;
    }

    /// <summary>Lists <paramref name="directory"/> only while it is the directory <paramref name="expected"/> its parent's
    /// listing saw: opened without following a final link, its identity (device and inode) checked on the descriptor, and
    /// every entry read relative to that descriptor. A walker listing ahead of the planner uses it (see
    /// <see cref="Endpoints.PrefetchingTreeLister"/>): a directory swapped for a link or for another directory after the
    /// parent was listed is then never listed in its place. The portable backend (no descriptors to list by, no inodes)
    /// lists by path, as <see cref="List"/> does.</summary>
    /// <exception cref="SyncException">The directory cannot be read, or is no longer the one listed (ScanError).</exception>
    public static List<FileEntry> ListVerified(string directory, string relativeForErrors, FileEntry expected)
    {
        if (!Posix.KeepsNameBytes || !Posix.TracksIdentity)
        {
            return List(directory, relativeForErrors);
        }

        using SafeFileHandle handle = OpenVerified(directory, relativeForErrors, expected);
        return ListOpen(handle, directory, relativeForErrors);
    }

    /// <summary><paramref name="directory"/> opened without following a final link, only while it is the directory
    /// <paramref name="expected"/> (device and inode checked on the descriptor).</summary>
    /// <exception cref="SyncException">It cannot be opened, or is no longer the one listed (ScanError).</exception>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static SafeFileHandle OpenVerified(string directory, string relativeForErrors, FileEntry expected)
    {
        SafeFileHandle? handle = Posix.Open(directory, Posix.ORdOnly | Posix.ODirectory | Posix.ONoFollow | Posix.OCloExec, 0, out int openError);
        if (handle is null)
        {
            throw openError is Posix.ELOOP or Posix.ENOTDIR ? Replaced(directory, relativeForErrors) : Unreadable(directory, openError, relativeForErrors);
        }

        if (Posix.StatAt(handle, string.Empty, out StatInfo opened) != 0 || opened.Device != expected.Device || opened.Inode != expected.Inode)
        {
            handle.Dispose();
            throw Replaced(directory, relativeForErrors);
        }

        return handle;
    }

    /// <summary>The entries of the directory <paramref name="handle"/> holds open (at <paramref name="directory"/>), each
    /// stated relative to it, sorted by ordinal name; an item gone before its stat is left out. The names are stated in
    /// inode order (see <see cref="DirectoryNames.SortByInode"/>); an error is the one the first failing name in name order
    /// gives, as when they were stated in that order.</summary>
    /// <exception cref="SyncException">The directory or one of its items cannot be read.</exception>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static List<FileEntry> ListOpen(SafeFileHandle handle, string directory, string relativeForErrors)
    {
        DirectoryNames names = DirectoryNames.Rent();
        if (!names.Read(handle, out int listError))
        {
            throw Unreadable(directory, listError, relativeForErrors);
        }

        names.SortByInode();
        int count = names.Count;
        var stated = new FileEntry?[count];
        var errors = new int[count];
        if (count >= ParallelStatNames)
        {
            // A large directory's inodes are stated by several threads, each a run of neighbouring inodes: on a cold cache
            // each run's inode-table reads are then in flight at once instead of one after another (the walkers ahead keep
            // several directories in flight, but one directory of 100,000 files is one walker's).
            int chunks = (count + ParallelStatChunk - 1) / ParallelStatChunk;
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = ParallelStatThreads }, chunk =>
            {
                int end = Math.Min(count, (chunk + 1) * ParallelStatChunk);
                for (int i = chunk * ParallelStatChunk; i < end; i++)
                {
                    errors[i] = StatOne(handle, directory, names, i, out stated[i]);
                }
            });
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                errors[i] = StatOne(handle, directory, names, i, out stated[i]);
            }
        }

        var entries = new List<FileEntry>(count);
        string? failedName = null;
        int failedErrno = 0;
        for (int i = 0; i < count; i++)
        {
            if (stated[i] is { } entry)
            {
                entries.Add(entry);
            }
            else if (errors[i] != Posix.ENOENT)
            {
                string name = names.Name(i);
                if (failedName is null || string.CompareOrdinal(name, failedName) < 0)
                {
                    failedName = name;
                    failedErrno = errors[i];
                }
            }
        }

        DirectoryNames.Return(names);
        if (failedName is not null)
        {
            throw ItemUnreadable(directory, failedName, failedErrno, relativeForErrors);
        }

        entries.Sort(s_byName);
        return entries;
    }

    /// <summary>States the name at <paramref name="index"/> (and reads its target when it is a link): 0 with the entry,
    /// or the errno (ENOENT: gone, or a link gone before its target was read).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int StatOne(SafeFileHandle handle, string directory, DirectoryNames names, int index, out FileEntry? entry)
    {
        entry = null;
        int errno = names.StatAt(handle, index, out StatInfo stat);
        if (errno != 0)
        {
            return errno;
        }

        // Spelled out here rather than shared with StatNamed: this runs for every entry of every directory listed.
        string name = names.Name(index);
        EntryKind kind = FileEntry.KindOf(stat);
        string? target = null;
        if (kind == EntryKind.SymbolicLink)
        {
            target = Posix.ReadLinkAt(handle, name, out int linkError);
            if (target is null)
            {
                return linkError == Posix.EINVAL || linkError == 0 ? Posix.ENOENT : linkError;
            }
        }

        entry = FileEntry.InDirectory(directory, name, kind, stat, target);
        return 0;
    }

    /// <summary>States <paramref name="name"/> in the directory <paramref name="handle"/> holds open, as
    /// <see cref="StatOne"/> states a listed name: 0 with the entry, or the errno.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static int StatNamed(SafeFileHandle handle, string directory, string name, out FileEntry? entry)
    {
        entry = null;
        int errno = Posix.StatAt(handle, name, out StatInfo stat);
        if (errno != 0)
        {
            return errno;
        }

        EntryKind kind = FileEntry.KindOf(stat);
        string? target = null;
        if (kind == EntryKind.SymbolicLink)
        {
            target = Posix.ReadLinkAt(handle, name, out int linkError);
            if (target is null)
            {
                return linkError == Posix.EINVAL || linkError == 0 ? Posix.ENOENT : linkError;
            }
        }

        entry = FileEntry.InDirectory(directory, name, kind, stat, target);
        return 0;
    }

    /// <summary>The error for an item of a directory that cannot be stated.</summary>
    private static SyncException ItemUnreadable(string directory, string name, int errno, string relativeForErrors) =>
        new(ErrorIds.ScanError, errno == Posix.EACCES ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
            $"Cannot read '{Path.Join(directory, name)}': {Posix.Describe(errno)}.", relativeForErrors);

    /// <summary>The error <see cref="List"/> gives for a directory it cannot open or read.</summary>
    private static SyncException Unreadable(string directory, int errno, string relativeForErrors) =>
        new(ErrorIds.ScanError, errno == Posix.EACCES ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
            errno == Posix.EACCES ? $"Cannot read directory '{directory}': permission denied." : $"Cannot read directory '{directory}': {Posix.Describe(errno)}.",
            relativeForErrors);

    private static SyncException Replaced(string directory, string relativeForErrors) =>
        new(ErrorIds.ScanError, SyncErrorKind.ReadError,
            $"Cannot read directory '{directory}': it was replaced while the tree was scanned (a link or another item now stands where the directory "
            + "was listed); nothing in it is touched.", relativeForErrors);

    private static void ListPortable(string directory, string relativeForErrors, List<string> names)
    {
        try
        {
            var enumerable = new FileSystemEnumerable<string>(directory, static (ref FileSystemEntry e) => e.FileName.ToString(), s_options);
            foreach (string name in enumerable)
            {
                names.Add(name);
            }
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SyncException(ErrorIds.ScanError, SyncErrorKind.PermissionDenied,
                $"Cannot read directory '{directory}': permission denied.", relativeForErrors, ex);
        }
        catch (IOException ex)
        {
            throw new SyncException(ErrorIds.ScanError, SyncErrorKind.ReadError,
                $"Cannot read directory '{directory}': {ex.Message}", relativeForErrors, ex);
        }
    }

    /// <summary>Stats one path; null with the errno when it cannot be read.</summary>
    public static FileEntry? Stat(string fullPath, string name, bool follow, out int errno)
    {
        errno = Posix.Stat(fullPath, follow, out StatInfo stat);
        if (errno != 0)
        {
            return null;
        }

        EntryKind kind = FileEntry.KindOf(stat);
        string? target = null;
        if (kind == EntryKind.SymbolicLink)
        {
            target = Posix.ReadLink(fullPath, out int linkError);
            if (target is null)
            {
                errno = linkError == Posix.EINVAL || linkError == 0 ? Posix.ENOENT : linkError;
                return null;
            }
        }

        return new FileEntry(name, fullPath, kind, stat, target);
    }
}
