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

        names.Sort(StringComparer.Ordinal);
        var entries = new List<FileEntry>(names.Count);
        foreach (string name in names)
        {
            FileEntry? entry = Stat(Path.Join(directory, name), name, follow: false, out int errno);
            if (entry is not null)
            {
                entries.Add(entry);
            }
            else if (errno != Posix.ENOENT)
            {
                throw new SyncException(ErrorIds.ScanError, errno == Posix.EACCES ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
                    $"Cannot read '{Path.Join(directory, name)}': {Posix.Describe(errno)}.", relativeForErrors);
            }
        }

        return entries;
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
            try
            {
                target = new FileInfo(fullPath).LinkTarget;
            }
            catch (IOException)
            {
                errno = Posix.ENOENT;
                return null;
            }
        }

        return new FileEntry(name, fullPath, kind, stat, target);
    }
}
