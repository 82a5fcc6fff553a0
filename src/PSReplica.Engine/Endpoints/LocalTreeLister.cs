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
}
