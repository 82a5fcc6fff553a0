using System.IO.Enumeration;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Scanning;

/// <summary>Lists one directory: names from the enumerator, metadata from statx (nanosecond times, no link following).</summary>
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

    /// <summary>The directory's entries sorted by ordinal name. Items that vanish between listing and stat are left out.</summary>
    /// <exception cref="SyncException">The directory cannot be read.</exception>
    public static List<FileEntry> List(string directory, string relativeForErrors)
    {
        var names = new List<string>();
        if (Posix.KeepsNameBytes)
        {
            List<(string Name, byte Type)>? listed = Posix.ListDirectory(directory, out int listError);
            if (listed is null)
            {
                throw Unreadable(directory, listError, relativeForErrors);
            }

            foreach ((string name, _) in listed)
            {
                names.Add(name);
            }
        }
        else
        {
            ListPortable(directory, relativeForErrors, names);
        }

        return StatSorted(directory, names, relativeForErrors);
    }

    /// <summary>The entries of <paramref name="directory"/> named <paramref name="names"/>, sorted by ordinal name; a
    /// name not there is left out. Each name is stat'ed, the directory not listed (-Watch's batch of a few names in a
    /// large directory); it is opened first, so that one that cannot be read fails as <see cref="List"/> does rather
    /// than look empty.</summary>
    /// <exception cref="SyncException">The directory cannot be read.</exception>
    public static List<FileEntry> ListNames(string directory, IReadOnlySet<string> names, string relativeForErrors)
    {
        if (!Posix.KeepsNameBytes)
        {
            return List(directory, relativeForErrors).FindAll(entry => names.Contains(entry.Name));
        }

        using (SafeFileHandle? opened = Posix.Open(directory, Posix.ORdOnly | Posix.ODirectory | Posix.OCloExec, 0, out int openError))
        {
            if (opened is null)
            {
                throw Unreadable(directory, openError, relativeForErrors);
            }
        }

        var wanted = new List<string>(names.Count);
        foreach (string name in names)
        {
            // Only a name a listing could hold: never the directory itself or its parent, never a path.
            if (name is not ("" or "." or "..") && !name.Contains('/', StringComparison.Ordinal))
            {
                wanted.Add(name);
            }
        }

        return StatSorted(directory, wanted, relativeForErrors);
    }

    private static SyncException Unreadable(string directory, int errno, string relativeForErrors) =>
        new(ErrorIds.ScanError, errno == Posix.EACCES ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
            errno == Posix.EACCES ? $"Cannot read directory '{directory}': permission denied."
                : $"Cannot read directory '{directory}': {Posix.Describe(errno)}.", relativeForErrors);

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
                throw new SyncException(ErrorIds.ScanError, errno == Posix.EACCES ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
                    $"Cannot read '{Path.Join(directory, name)}': {Posix.Describe(errno)}.", relativeForErrors);
            }
        }

        return entries;
    }

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
