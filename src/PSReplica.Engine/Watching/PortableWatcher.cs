using System.Threading.Channels;

namespace PSReplica.Engine.Watching;

/// <summary>The portable backend's tree watcher, on <see cref="FileSystemWatcher"/> over the whole tree (what Windows and
/// macOS use, and Linux with PSREPLICA_FILESYSTEM=portable). A directory made or moved in is reported as a
/// <see cref="WatchChangeKind.Subtree"/>, since what it held when it arrived may have come before any notification;
/// an overflow of the watcher's buffer as <see cref="WatchChangeKind.Lost"/> for the whole tree.</summary>
/// <remarks>FileSystemWatcher cannot leave a directory out of its watch: the directories that the predicate declines
/// are watched all the same, and the changes below them dropped here. On Linux it keeps watching a directory moved out
/// of the tree, reporting what happens there under its old path: a change whose parent directory is no longer in the
/// tree is dropped (that directory's own removal or rename was reported, and planning it again covers all it held). It
/// says nothing when the root itself goes, so a second watcher on the root's parent watches for the root's name.</remarks>
internal sealed class PortableWatcher : ITreeWatcher
{
    /// <summary>The largest buffer Windows allows for a watch of a network share; the more it holds, the rarer a loss.</summary>
    private const int BufferSize = 64 * 1024;

    private readonly Func<string, bool>? _watchDirectory;
    private readonly FileSystemWatcher _watcher;
    private readonly FileSystemWatcher? _rootWatcher;
    private readonly Channel<WatchChange> _changes = Channel.CreateUnbounded<WatchChange>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private int _disposed;

    private PortableWatcher(string root, Func<string, bool>? watchDirectory)
    {
        Root = root;
        _watchDirectory = watchDirectory;
        _watcher = new FileSystemWatcher(root)
        {
            IncludeSubdirectories = true,
            InternalBufferSize = BufferSize,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Attributes | NotifyFilters.Size
                | NotifyFilters.LastWrite | NotifyFilters.CreationTime | NotifyFilters.Security,
        };
        _watcher.Created += OnCreated;
        _watcher.Changed += OnChanged;
        _watcher.Deleted += OnDeleted;
        _watcher.Renamed += OnRenamed;
        _watcher.Error += OnError;

        string? parent = Path.GetDirectoryName(root);
        string name = Path.GetFileName(root);
        if (parent is not null && name.Length > 0)
        {
            _rootWatcher = new FileSystemWatcher(parent, name) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.DirectoryName };
            _rootWatcher.Deleted += OnRootGone;
            _rootWatcher.Renamed += OnRootGone;
        }
    }

    /// <summary>Watches the tree at <paramref name="root"/>; the changes below a directory that
    /// <paramref name="watchDirectory"/> (given a relative, '/'-separated path) declines are not reported.</summary>
    /// <exception cref="SyncException">The root is missing or cannot be watched.</exception>
    public static PortableWatcher Start(string root, Func<string, bool>? watchDirectory = null)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        if (!Directory.Exists(full))
        {
            throw new SyncException(ErrorIds.SourceNotFound, SyncErrorKind.NotFound, $"Cannot watch '{full}': it does not exist or is not a directory.", full);
        }

        var watcher = new PortableWatcher(full, watchDirectory);
        try
        {
            watcher._watcher.EnableRaisingEvents = true;
            if (watcher._rootWatcher is { } rootWatcher)
            {
                try
                {
                    rootWatcher.EnableRaisingEvents = true;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
                {
                    // The root's parent cannot be watched (unreadable): the root's loss is then seen only as the Error
                    // that may come with it.
                    rootWatcher.Dispose();
                }
            }

            return watcher;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            watcher.Dispose();
            throw new SyncException(ErrorIds.WatchUnavailable, SyncErrorKind.LimitsExceeded, $"Cannot watch '{full}': {e.Message}", full, e);
        }
    }

    /// <summary>The watched root, absolute.</summary>
    public string Root { get; }

    public ChannelReader<WatchChange> Changes => _changes.Reader;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _watcher.EnableRaisingEvents = false;
        _watcher.Dispose();
        _rootWatcher?.Dispose();
        _changes.Writer.TryComplete();
    }

    /// <summary>What the watcher's Error event does, for tests (a real overflow cannot be provoked on demand here).</summary>
    internal void RaiseErrorForTest(Exception error) => OnError(this, new ErrorEventArgs(error));

    private void OnCreated(object sender, FileSystemEventArgs e) => Report(e.FullPath, arrived: true);

    private void OnChanged(object sender, FileSystemEventArgs e) => Report(e.FullPath, arrived: false);

    private void OnDeleted(object sender, FileSystemEventArgs e) => Report(e.FullPath, arrived: false);

    private void OnRenamed(object sender, RenamedEventArgs e)
    {
        Report(e.OldFullPath, arrived: false);
        Report(e.FullPath, arrived: true, from: Relative(e.OldFullPath));
    }

    private void OnRootGone(object sender, FileSystemEventArgs e)
    {
        if (e is RenamedEventArgs renamed ? !SameName(renamed.OldFullPath) : !SameName(e.FullPath))
        {
            return;
        }

        string what = e.ChangeType == WatcherChangeTypes.Renamed ? "was moved or renamed" : "was deleted";
        _changes.Writer.TryComplete(new SyncException(ErrorIds.WatchRootLost, SyncErrorKind.NotFound, $"The watched directory '{Root}' {what}: the watch ends.", Root));
    }

    private bool SameName(string fullPath) =>
        string.Equals(Path.TrimEndingDirectorySeparator(fullPath), Root, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);

    private void OnError(object sender, ErrorEventArgs e)
    {
        Exception error = e.GetException();
        if (!Directory.Exists(Root))
        {
            _changes.Writer.TryComplete(new SyncException(ErrorIds.WatchRootLost, SyncErrorKind.NotFound, $"The watched directory '{Root}' is gone: the watch ends.", Root, error));
            return;
        }

        string reason = error is InternalBufferOverflowException
            ? $"Changes under '{Root}' were lost: the file-system watcher's buffer ({_watcher.InternalBufferSize} bytes) overflowed; the whole tree is planned again."
            : $"Changes under '{Root}' may have been lost: the file-system watcher failed ({error.Message}); the whole tree is planned again.";
        Write(WatchChangeKind.Lost, "", reason);
    }

    /// <summary>An item changed at <paramref name="fullPath"/>; when it <paramref name="arrived"/> there and is a real
    /// directory (not a link), what it holds is planned again as well.</summary>
    /// <param name="from">For a rename within the tree, the old path (the hint <see cref="WatchChange.From"/>).</param>
    private void Report(string fullPath, bool arrived, string? from = null)
    {
        if (Relative(fullPath) is not { } relative || Declined(relative) || !ParentInTree(relative))
        {
            return;
        }

        Write(WatchChangeKind.Item, relative);
        if (arrived && IsRealDirectory(fullPath) && (_watchDirectory is null || _watchDirectory(relative)))
        {
            _changes.Writer.TryWrite(new WatchChange(WatchChangeKind.Subtree, relative)
            {
                From = from is not null && from.Length > 0 && !Declined(from) ? from : null,
            });
        }
    }

    /// <summary>The path relative to the root, '/'-separated; null for a path outside it.</summary>
    private string? Relative(string fullPath)
    {
        string relative = Path.GetRelativePath(Root, fullPath);
        if (relative == ".")
        {
            return "";
        }

        if (relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            return null;
        }

        return Path.DirectorySeparatorChar == '/' ? relative : relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    /// <summary>True when a directory above <paramref name="relative"/> is one the predicate declines to watch.</summary>
    private bool Declined(string relative)
    {
        if (_watchDirectory is null)
        {
            return false;
        }

        for (int slash = relative.IndexOf('/', StringComparison.Ordinal); slash >= 0; slash = relative.IndexOf('/', slash + 1))
        {
            if (!_watchDirectory(relative[..slash]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>False when the directory that holds <paramref name="relative"/> is no longer in the tree: the event came
    /// from a directory moved out (or deleted since).</summary>
    private bool ParentInTree(string relative)
    {
        int slash = relative.LastIndexOf('/');
        return slash < 0 || Directory.Exists(Path.Join(Root, relative[..slash]));
    }

    private static bool IsRealDirectory(string fullPath)
    {
        try
        {
            FileAttributes attributes = File.GetAttributes(fullPath);
            return (attributes & FileAttributes.Directory) != 0 && (attributes & FileAttributes.ReparsePoint) == 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private void Write(WatchChangeKind kind, string relative, string? reason = null) =>
        _changes.Writer.TryWrite(new WatchChange(kind, relative, reason));
}
