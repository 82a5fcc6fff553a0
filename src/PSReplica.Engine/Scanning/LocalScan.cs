using System.Collections.Concurrent;
using PSReplica.Engine.Endpoints;

namespace PSReplica.Engine.Scanning;

/// <summary>Lists the local side of a remote run on a thread of its own while the connection is made and the agent
/// starts (a large part of a short run), so that the planner finds most directories already listed instead of reading
/// them itself afterwards. It stops as soon as the planner starts asking (from then on it would only compete with it)
/// or after <see cref="MaxEntries"/> entries, follows no link (each directory below the root is listed only while it is the
/// one its parent's listing named, as the planner lists it), and leaves a directory it cannot read to the planner,
/// which reads it again and reports the error as usual. What it lists is what a scan would have read a moment later.</summary>
public sealed class LocalScan : IDisposable
{
    /// <summary>Entries held for the planner at most (about 200 bytes each).</summary>
    private const int MaxEntries = 1 << 20;

    private readonly ConcurrentDictionary<string, List<FileEntry>> _listed = new(StringComparer.Ordinal);
    private readonly Thread _thread;
    private volatile bool _stopped;

    private LocalScan(string root, bool oneFileSystem)
    {
        Root = root;
        _thread = new Thread(() => Walk(root, oneFileSystem)) { IsBackground = true, Name = "PSReplica local scan" };
        _thread.Start();
    }

    /// <summary>The directory listed (as the planner names it).</summary>
    public string Root { get; }

    /// <summary>How many directories were listed ahead of the planner.</summary>
    public int DirectoriesListed { get; private set; }

    /// <summary>Starts listing <paramref name="directory"/>, a full path as the planner names its root.</summary>
    /// <param name="oneFileSystem">A source under -OneFileSystem: directories on another device than the root's are
    /// not walked into (the planner never lists them).</param>
    public static LocalScan Start(string directory, bool oneFileSystem = false) => new(directory, oneFileSystem);

    /// <summary>A lister for the planner that takes this scan's directories and lists any other itself.</summary>
    internal ITreeLister Lister => new PrefetchedLister(this);

    /// <summary>Waits for the walk to end (tests).</summary>
    internal bool WaitUntilListed(TimeSpan timeout) => _thread.Join(timeout);

    /// <summary>Stops listing and lets go of what the planner did not take.</summary>
    public void Dispose()
    {
        _stopped = true;
        _thread.Join();
        _listed.Clear();
    }

    private void Walk(string root, bool oneFileSystem)
    {
        ulong? device = oneFileSystem ? DirectoryLister.Stat(root, Path.GetFileName(root), follow: true, out _)?.Device : null;
        // A directory below the root by the entry its parent's listing gave (the root, which may be a link, by its path).
        var pending = new Stack<(string Path, FileEntry? Entry)>();
        pending.Push((root, null));
        long held = 0;
        while (pending.Count > 0 && !_stopped && held < MaxEntries)
        {
            (string directory, FileEntry? named) = pending.Pop();
            List<FileEntry> entries;
            try
            {
                entries = named is null ? DirectoryLister.List(directory, directory) : DirectoryLister.ListVerified(directory, directory, named);
            }
            catch (Exception ex) when (ex is SyncException or IOException or UnauthorizedAccessException)
            {
                continue;
            }

            _listed[directory] = entries;
            DirectoriesListed++;
            held += entries.Count;

            // Depth-first in name order, as the planner goes: what it asks for first is listed first.
            for (int i = entries.Count - 1; i >= 0; i--)
            {
                if (entries[i].Kind == EntryKind.Directory && (device is not { } walked || entries[i].Device == walked))
                {
                    pending.Push((entries[i].FullPath, entries[i]));
                }
            }
        }
    }

    private sealed class PrefetchedLister(LocalScan scan) : ITreeLister
    {
        public List<FileEntry> List(string fullPath, string relative) => Take(fullPath, relative, null);

        public List<FileEntry> ListVerified(FileEntry directory, string relative) => Take(directory.FullPath, relative, directory);

        /// <summary>The scan's listing of a directory, or one read here (verified against <paramref name="expected"/>, else by
        /// path).</summary>
        private List<FileEntry> Take(string fullPath, string relative, FileEntry? expected)
        {
            scan._stopped = true;
            if (scan._listed.TryRemove(fullPath, out List<FileEntry>? entries))
            {
                return entries;
            }

            string shown = relative.Length == 0 ? "." : relative;
            return expected is null ? DirectoryLister.List(fullPath, shown) : DirectoryLister.ListVerified(fullPath, shown, expected);
        }

        public Endpoints.FileSystemTraits Traits(string fullPath, ulong? device, bool measure) =>
            Endpoints.LocalTreeLister.Instance.Traits(fullPath, device, measure);
    }
}
