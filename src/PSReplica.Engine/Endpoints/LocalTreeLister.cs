using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>Lists a local directory with <see cref="DirectoryLister"/>: what the planner always did.</summary>
internal sealed class LocalTreeLister : ITreeLister
{
    public static LocalTreeLister Instance { get; } = new();

    private LocalTreeLister()
    {
    }

    public List<FileEntry> List(string fullPath, string relative) => DirectoryLister.List(fullPath, relative.Length == 0 ? "." : relative);

    public List<FileEntry> ListNames(string fullPath, string relative, IReadOnlySet<string> names, FileEntry? expected) =>
        DirectoryLister.ListNames(fullPath, names, relative.Length == 0 ? "." : relative, expected);

    public List<FileEntry> ListVerified(FileEntry directory, string relative) => DirectoryLister.ListVerified(directory.FullPath, relative, directory);

    public FileSystemTraits Traits(string fullPath, ulong? device, bool measure)
    {
        if (device is { } known)
        {
            return Native.FileSystemProbe.Detect(fullPath, known, measure);
        }

        // Not there yet: the nearest existing ancestor's file system, by its type only (nothing is written outside the
        // destination).
        for (string? path = Path.GetDirectoryName(fullPath); path is not null; path = Path.GetDirectoryName(path))
        {
            if (Native.Posix.Stat(path, follow: true, out Native.StatInfo stat) == 0)
            {
                return Native.FileSystemProbe.Detect(path, stat.Device, measure: false);
            }
        }

        return FileSystemTraits.Full;
    }
}
