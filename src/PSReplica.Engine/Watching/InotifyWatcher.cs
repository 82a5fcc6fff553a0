using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading.Channels;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Watching;

/// <summary>The Linux backend's tree watcher: one inotify watch per directory, added as directories appear (their
/// subtrees walked, since what arrived before the watch was seen by none) and dropped as they vanish or move away.
/// Links are never followed: only real directories are walked, and a watch is added with IN_DONT_FOLLOW | IN_ONLYDIR, so
/// a directory swapped for a link is not watched through it. A dedicated thread blocks in poll(2) on the inotify
/// descriptor and an eventfd that <see cref="Dispose"/> signals: no timed polling, no CPU while nothing changes.</summary>
/// <remarks>A directory moved within the tree is dropped at its IN_MOVED_FROM and watched afresh at its IN_MOVED_TO
/// (with a <see cref="WatchChangeKind.Subtree"/> for its new path), instead of moving its watches: the pair may
/// straddle two reads, or have one half outside the tree, and the re-walk is correct in every case. The two halves are
/// still paired by cookie, for the hint <see cref="WatchChange.From"/> only. Only the reader thread touches the
/// bookkeeping once <see cref="Start"/> has returned.</remarks>
[SupportedOSPlatform("linux")]
internal sealed class InotifyWatcher : ITreeWatcher
{
    /// <summary>What a directory's watch reports: its entries made, written, closed after writing, changed in their
    /// attributes, deleted and renamed, and the directory itself deleted or moved.</summary>
    private const uint DirectoryMask = LinuxCalls.InCreate | LinuxCalls.InDelete | LinuxCalls.InModify | LinuxCalls.InCloseWrite
        | LinuxCalls.InAttrib | LinuxCalls.InMovedFrom | LinuxCalls.InMovedTo | LinuxCalls.InDeleteSelf | LinuxCalls.InMoveSelf
        | LinuxCalls.InOnlyDir | LinuxCalls.InDontFollow | LinuxCalls.InExclUnlink;

    /// <summary>The events that end a change of a file: no writer is known to be at it after them.</summary>
    private const uint FinalMask = LinuxCalls.InCloseWrite | LinuxCalls.InDelete | LinuxCalls.InMovedFrom | LinuxCalls.InMovedTo;

    /// <summary>The root may be given through a link (the scan lists what it points to), so its own watch follows one.</summary>
    private const uint RootMask = DirectoryMask & ~LinuxCalls.InDontFollow;

    public const string QueueLimitPath = "/proc/sys/fs/inotify/max_queued_events";
    public const string WatchLimitPath = "/proc/sys/fs/inotify/max_user_watches";
    private const string InstanceLimitPath = "/proc/sys/fs/inotify/max_user_instances";

    /// <summary>Room for a few thousand events per read; one event takes 16 bytes and its padded name (NAME_MAX + 1 at most).</summary>
    private const int BufferSize = 64 * 1024;

    private readonly string _rootPrefix;
    private readonly Func<string, bool>? _watchDirectory;
    private readonly Func<string, int>? _addErrorForTest;
    private readonly SafeFileHandle _inotify;
    private readonly SafeFileHandle _wake;
    private readonly Channel<WatchChange> _changes = Channel.CreateUnbounded<WatchChange>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    /// <summary>How many unpaired IN_MOVED_FROM halves of directories are kept for their IN_MOVED_TO.</summary>
    private const int MovedFromKept = 64;

    /// <summary>Directories moved from a name, by the cookie their IN_MOVED_TO will carry (reader thread only).</summary>
    private readonly Dictionary<uint, string> _movedFrom = [];
    private readonly Dictionary<int, WatchedDirectory> _byDescriptor = [];
    private readonly WatchedDirectory _root;
    private readonly (ulong Device, ulong Inode) _rootIdentity;
    private readonly Thread _reader;
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;

    private InotifyWatcher(string root, Func<string, bool>? watchDirectory, Func<string, int>? addErrorForTest, SafeFileHandle inotify, SafeFileHandle wake)
    {
        Root = root;
        _rootPrefix = root.EndsWith('/') ? root : root + "/";
        _watchDirectory = watchDirectory;
        _addErrorForTest = addErrorForTest;
        _inotify = inotify;
        _wake = wake;

        int errno = addErrorForTest?.Invoke("") ?? 0;
        int wd = errno == 0 ? LinuxCalls.InotifyAddWatch(inotify, root, RootMask, out errno) : -1;
        if (wd < 0)
        {
            throw RootUnwatchable(root, errno);
        }

        _rootIdentity = LinuxCalls.Stat(root, follow: true, out StatInfo info) == 0 ? (info.Device, info.Inode) : default;
        _root = new WatchedDirectory(wd, "", parent: null);
        _byDescriptor.Add(wd, _root);
        WatchTree(_root);
        _reader = new Thread(Run) { IsBackground = true, Name = "PSReplica inotify reader" };
    }

    /// <summary>Watches the tree at <paramref name="root"/>: every directory below it for which
    /// <paramref name="watchDirectory"/> (given a relative, '/'-separated path) says yes, or every one when it is null;
    /// the directories below one it says no to are not visited.</summary>
    /// <exception cref="SyncException">The root cannot be watched (missing, not a directory, unreadable, or the user's
    /// inotify limits reached).</exception>
    public static InotifyWatcher Start(string root, Func<string, bool>? watchDirectory = null) => Start(root, watchDirectory, addErrorForTest: null);

    /// <summary><see cref="Start(string, Func{string, bool}?)"/> with a seam: <paramref name="addErrorForTest"/> (given a
    /// directory's relative path) returns an errno that adding its watch fails with instead of calling the kernel, or 0.</summary>
    internal static InotifyWatcher Start(string root, Func<string, bool>? watchDirectory, Func<string, int>? addErrorForTest)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        SafeFileHandle inotify = LinuxCalls.InotifyInit(out int errno)
            ?? throw new SyncException(ErrorIds.WatchUnavailable, SyncErrorKind.LimitsExceeded,
                $"Cannot watch '{full}': no inotify instance ({Posix.Describe(errno)}; the user's limit is {Limit(InstanceLimitPath)}).", full);
        SafeFileHandle? wake = null;
        try
        {
            wake = LinuxCalls.EventFd(out errno)
                ?? throw new SyncException(ErrorIds.WatchUnavailable, SyncErrorKind.LimitsExceeded, $"Cannot watch '{full}': no eventfd ({Posix.Describe(errno)}).", full);
            var watcher = new InotifyWatcher(full, watchDirectory, addErrorForTest, inotify, wake);
            watcher._reader.Start();
            return watcher;
        }
        catch
        {
            wake?.Dispose();
            inotify.Dispose();
            throw;
        }
    }

    /// <summary>The watched root, absolute.</summary>
    public string Root { get; }

    public ChannelReader<WatchChange> Changes => _changes.Reader;

    /// <summary>Set: the reader runs. Reset by a test: the reader stops before its next poll (and signals
    /// <see cref="ParkedForTest"/>), so that the kernel's queue fills and overflows deterministically.</summary>
    internal ManualResetEventSlim PauseForTest { get; } = new(initialState: true);

    /// <summary>Set while the reader waits on <see cref="PauseForTest"/>.</summary>
    internal ManualResetEventSlim ParkedForTest { get; } = new(initialState: false);

    internal Thread ReaderForTest => _reader;

    /// <summary>The relative paths of the directories watched now, for tests (read it only while the reader is parked,
    /// or after it has ended).</summary>
    internal List<string> WatchedPathsForTest()
    {
        var paths = new List<string>();
        foreach (WatchedDirectory directory in _byDescriptor.Values)
        {
            paths.Add(directory.Path);
        }

        paths.Sort(StringComparer.Ordinal);
        return paths;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        _ = LinuxCalls.SignalEventFd(_wake);
        if (Thread.CurrentThread != _reader)
        {
            _reader.Join();
        }

        _inotify.Dispose();
        _wake.Dispose();
        _stop.Dispose();
        _changes.Writer.TryComplete();
    }

    private void Run()
    {
        byte[] buffer = new byte[BufferSize];
        int inotify = Posix.Descriptor(_inotify);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (!PauseForTest.IsSet && !Park())
                {
                    return;
                }

                int rc = LinuxCalls.PollInputs(_inotify, _wake, out bool events, out bool woken);
                if (rc == -Posix.EINTR)
                {
                    continue;
                }

                if (rc < 0)
                {
                    throw new IOException($"poll on the inotify descriptor failed: {Posix.Describe(-rc)}.");
                }

                if (woken)
                {
                    return;
                }

                if (!events)
                {
                    continue;
                }

                int n = LinuxCalls.Read(inotify, buffer);
                if (n is -Posix.EAGAIN or -Posix.EINTR)
                {
                    continue;
                }

                if (n <= 0)
                {
                    throw new IOException($"reading the inotify descriptor failed: {(n == 0 ? "end of file" : Posix.Describe(-n))}.");
                }

                if (!Process(buffer.AsSpan(0, n)))
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // An exception on a dedicated thread would end the process: the consumer gets it instead.
            _changes.Writer.TryComplete(new SyncException(ErrorIds.ScanError, SyncErrorKind.ReadError, $"The watch on '{Root}' failed: {e.Message}", Root, e));
        }
    }

    /// <summary>Waits while a test holds the reader; false when the watcher is disposed meanwhile.</summary>
    private bool Park()
    {
        ParkedForTest.Set();
        try
        {
            PauseForTest.Wait(_stop.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            ParkedForTest.Reset();
        }
    }

    /// <summary>Handles every struct inotify_event in <paramref name="buffer"/>; false once the root is lost (the channel is
    /// completed then).</summary>
    private bool Process(ReadOnlySpan<byte> buffer)
    {
        while (buffer.Length >= LinuxCalls.InotifyEventHeader)
        {
            int wd = MemoryMarshal.Read<int>(buffer);
            uint mask = MemoryMarshal.Read<uint>(buffer[4..]);
            uint length = MemoryMarshal.Read<uint>(buffer[12..]);
            if (length > (uint)(buffer.Length - LinuxCalls.InotifyEventHeader))
            {
                // The kernel returns whole events only; a torn one means the rest of this read cannot be trusted.
                Resynchronize();
                Write(WatchChangeKind.Lost, "", $"An inotify event on '{Root}' was cut short ({length} bytes of name announced, {buffer.Length - LinuxCalls.InotifyEventHeader} read); the whole tree is planned again.");
                return true;
            }

            ReadOnlySpan<byte> name = buffer.Slice(LinuxCalls.InotifyEventHeader, (int)length);
            int end = name.IndexOf((byte)0);
            if (end >= 0)
            {
                name = name[..end];
            }

            uint cookie = MemoryMarshal.Read<uint>(buffer[8..]);
            buffer = buffer[(LinuxCalls.InotifyEventHeader + (int)length)..];
            if (!Handle(wd, mask, cookie, name))
            {
                return false;
            }
        }

        return true;
    }

    private bool Handle(int wd, uint mask, uint cookie, ReadOnlySpan<byte> nameBytes)
    {
        if ((mask & LinuxCalls.InQueueOverflow) != 0)
        {
            // Whatever was dropped may include directories made (never watched) or removed (their IN_IGNORED), or the root's
            // own end: the watches are rebuilt before the loss is reported, so the rescan it asks for and the watches cover
            // everything after it.
            if (LinuxCalls.Stat(Root, follow: true, out StatInfo info) != 0 || (info.Device, info.Inode) != _rootIdentity)
            {
                return RootLost("was removed or replaced while the kernel's inotify queue overflowed");
            }

            Resynchronize();
            Write(WatchChangeKind.Lost, "",
                $"Changes under '{Root}' were lost: the kernel's inotify queue overflowed (it holds {Limit(QueueLimitPath)} events, {QueueLimitPath}); the whole tree is planned again.");
            return true;
        }

        if (!_byDescriptor.TryGetValue(wd, out WatchedDirectory? directory))
        {
            // A watch already dropped: its late events, its IN_IGNORED.
            return true;
        }

        if (nameBytes.IsEmpty)
        {
            return HandleSelf(directory, mask);
        }

        string parent = directory.Path;
        // A name that is not UTF-8 is kept as its bytes (NameCodec), as the scanner lists it.
        string name = NameCodec.Decode(nameBytes);
        string relative = Join(parent, name);
        if ((mask & LinuxCalls.InIsDir) == 0)
        {
            // A file is done with when it is closed after writing, deleted, or renamed; made or written, it may be written on.
            _changes.Writer.TryWrite(new WatchChange(WatchChangeKind.Item, relative) { Final = (mask & FinalMask) != 0 });
            return true;
        }

        if ((mask & (LinuxCalls.InDelete | LinuxCalls.InMovedFrom)) != 0 && directory.Children.TryGetValue(name, out WatchedDirectory? gone))
        {
            Drop(gone, kernelDropped: false);
        }

        string? from = null;
        if ((mask & LinuxCalls.InMovedFrom) != 0 && cookie != 0)
        {
            // The half whose partner never comes (moved out of the tree) is forgotten once a few more have gathered.
            if (_movedFrom.Count >= MovedFromKept)
            {
                _movedFrom.Clear();
            }

            _movedFrom[cookie] = relative;
        }
        else if ((mask & LinuxCalls.InMovedTo) != 0 && cookie != 0)
        {
            _movedFrom.Remove(cookie, out from);
        }

        _changes.Writer.TryWrite(new WatchChange(WatchChangeKind.Item, relative) { Final = true });
        if ((mask & (LinuxCalls.InCreate | LinuxCalls.InMovedTo)) != 0 && AddWatch(directory, name) is { } added)
        {
            WatchTree(added);
            _changes.Writer.TryWrite(new WatchChange(WatchChangeKind.Subtree, relative) { From = from });
        }

        return true;
    }

    /// <summary>An event on a watched directory itself (no name).</summary>
    private bool HandleSelf(WatchedDirectory directory, uint mask)
    {
        if (directory == _root)
        {
            if ((mask & (LinuxCalls.InDeleteSelf | LinuxCalls.InMoveSelf | LinuxCalls.InUnmount | LinuxCalls.InIgnored)) != 0)
            {
                return RootLost((mask & LinuxCalls.InDeleteSelf) != 0 ? "was deleted"
                    : (mask & LinuxCalls.InMoveSelf) != 0 ? "was moved or renamed"
                    : (mask & LinuxCalls.InUnmount) != 0 ? "was unmounted"
                    : "is no longer watched (the kernel dropped its watch)");
            }

            if ((mask & LinuxCalls.InAttrib) != 0)
            {
                _changes.Writer.TryWrite(new WatchChange(WatchChangeKind.Item, "") { Final = true });
            }

            return true;
        }

        // Any other directory's changes are reported by its parent's watch (by name); only its end matters here.
        if ((mask & LinuxCalls.InUnmount) != 0)
        {
            // What the mount point shows now is another directory, which no watch has seen.
            WatchedDirectory parent = directory.Parent!;
            string name = directory.Name;
            string relative = directory.Path;
            Drop(directory, kernelDropped: true);
            if (AddWatch(parent, name) is { } added)
            {
                WatchTree(added);
            }

            Write(WatchChangeKind.Subtree, relative);
        }
        else if ((mask & (LinuxCalls.InDeleteSelf | LinuxCalls.InIgnored)) != 0)
        {
            Drop(directory, kernelDropped: (mask & LinuxCalls.InIgnored) != 0);
        }

        return true;
    }

    /// <summary>Ends the watch: every path it would report is relative to a root that is gone. Returns false (stop reading).</summary>
    private bool RootLost(string what)
    {
        _changes.Writer.TryComplete(new SyncException(ErrorIds.WatchRootLost, SyncErrorKind.NotFound, $"The watched directory '{Root}' {what}: the watch ends.", Root));
        return false;
    }

    /// <summary>Adds watches to every directory below <paramref name="top"/> (already watched), top-down and without
    /// following links. A directory seen both here and by its IN_CREATE is watched once (the kernel returns the same
    /// watch descriptor for one inode).</summary>
    private void WatchTree(WatchedDirectory top)
    {
        var pending = new Stack<WatchedDirectory>();
        pending.Push(top);
        var names = new List<string>();
        while (pending.TryPop(out WatchedDirectory? directory))
        {
            names.Clear();
            if (!ListSubdirectories(directory, names))
            {
                continue;
            }

            foreach (string name in names)
            {
                if (AddWatch(directory, name) is { } child)
                {
                    pending.Push(child);
                }
            }
        }
    }

    /// <summary>The names of the real directories (not links) in <paramref name="directory"/>; false when it cannot be
    /// listed (gone: its parent's watch reports that; unreadable: reported as lost).</summary>
    private bool ListSubdirectories(WatchedDirectory directory, List<string> names)
    {
        string relative = directory.Path;
        try
        {
            // readdir's names are the bytes the file system holds (NameCodec); System.IO's would not open one that is not UTF-8.
            List<(string Name, byte Type)>? listed = LinuxCalls.ListDirectory(FullPath(relative), out int errno);
            if (listed is null)
            {
                throw errno switch
                {
                    Posix.ENOENT or Posix.ENOTDIR => new DirectoryNotFoundException(FullPath(relative)),
                    Posix.EACCES => new UnauthorizedAccessException(Posix.Describe(errno)),
                    _ => new IOException(Posix.Describe(errno)),
                };
            }

            foreach ((string name, byte type) in listed)
            {
                if (type == LinuxCalls.DirentDirectory
                    || (type == LinuxCalls.DirentUnknown && Posix.Stat(Path.Join(FullPath(relative), name), follow: false, out StatInfo stat) == 0
                        && stat.FileType == Posix.SIfdir))
                {
                    names.Add(name);
                }
            }

            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Write(WatchChangeKind.Lost, relative, $"'{FullPath(relative)}' cannot be listed to watch what it holds ({e.Message}); it is planned again, but changes below it are not seen.");
            return false;
        }
    }

    /// <summary>Watches the directory <paramref name="name"/> in <paramref name="parent"/>: its node, or null when it is
    /// not to be watched or cannot be (reported as lost where that hides changes).</summary>
    private WatchedDirectory? AddWatch(WatchedDirectory parent, string name)
    {
        string relative = Join(parent.Path, name);
        if (_watchDirectory is not null && !_watchDirectory(relative))
        {
            return null;
        }

        int errno = _addErrorForTest?.Invoke(relative) ?? 0;
        int wd = errno == 0 ? LinuxCalls.InotifyAddWatch(_inotify, FullPath(relative), DirectoryMask, out errno) : -1;
        if (wd < 0)
        {
            ReportUnwatchable(relative, name, errno);
            return null;
        }

        if (_byDescriptor.TryGetValue(wd, out WatchedDirectory? existing))
        {
            if (existing.Parent == parent && existing.Name == name)
            {
                return existing;
            }

            // One directory at two paths (a bind mount): its events can carry one path only.
            Write(WatchChangeKind.Lost, relative,
                $"'{FullPath(relative)}' is the directory already watched as '{FullPath(existing.Path)}' (mounted twice): changes in it are reported under that path only; it is planned again now.");
            return null;
        }

        if (parent.Children.TryGetValue(name, out WatchedDirectory? replaced))
        {
            // The name now holds another directory (one renamed over an empty one): the old watch is stale.
            Drop(replaced, kernelDropped: false);
        }

        var added = new WatchedDirectory(wd, name, parent);
        parent.Children.Add(name, added);
        _byDescriptor.Add(wd, added);
        return added;
    }

    private void ReportUnwatchable(string relative, string name, int errno)
    {
        switch (errno)
        {
            case Posix.ENOENT when name.Contains('\uFFFD', StringComparison.Ordinal):
                // .NET lists a name that is not UTF-8 with replacement characters, which no longer name the directory.
                Write(WatchChangeKind.Lost, relative, $"'{FullPath(relative)}' cannot be watched: its name is not valid UTF-8; it is planned again, but changes below it are not seen.");
                break;
            case Posix.ENOENT or Posix.ENOTDIR:
                // Gone, or replaced by a file or a link, since it was seen: its parent's watch reports that.
                break;
            case Posix.ENOSPC:
                Write(WatchChangeKind.Lost, relative,
                    $"'{FullPath(relative)}' is not watched: the user's inotify watch limit ({Limit(WatchLimitPath)}, {WatchLimitPath}) is reached; it is planned again now, but later changes below it are not seen until the limit is raised.");
                break;
            case Posix.EACCES:
                Write(WatchChangeKind.Lost, relative, $"'{FullPath(relative)}' cannot be watched: permission denied; it is planned again, but changes below it are not seen.");
                break;
            default:
                Write(WatchChangeKind.Lost, relative, $"'{FullPath(relative)}' cannot be watched: {Posix.Describe(errno)}; it is planned again, but changes below it are not seen.");
                break;
        }
    }

    /// <summary>Forgets <paramref name="directory"/> and everything below it, removing the kernel's watches that may
    /// still exist (a directory moved away is still watched where it went).</summary>
    private void Drop(WatchedDirectory directory, bool kernelDropped)
    {
        if (directory.Parent is { } parent && parent.Children.TryGetValue(directory.Name, out WatchedDirectory? current) && current == directory)
        {
            parent.Children.Remove(directory.Name);
        }

        var pending = new Stack<WatchedDirectory>();
        pending.Push(directory);
        while (pending.TryPop(out WatchedDirectory? next))
        {
            _byDescriptor.Remove(next.Wd);
            if (!(kernelDropped && next == directory))
            {
                _ = LinuxCalls.InotifyRemoveWatch(_inotify, next.Wd);
            }

            foreach (WatchedDirectory child in next.Children.Values)
            {
                pending.Push(child);
            }

            next.Children.Clear();
        }
    }

    /// <summary>Rebuilds every watch below the root after events were lost.</summary>
    private void Resynchronize()
    {
        foreach (WatchedDirectory child in new List<WatchedDirectory>(_root.Children.Values))
        {
            Drop(child, kernelDropped: false);
        }

        WatchTree(_root);
    }

    private void Write(WatchChangeKind kind, string relative, string? reason = null) =>
        _changes.Writer.TryWrite(new WatchChange(kind, relative, reason));

    private string FullPath(string relative) => relative.Length == 0 ? Root : _rootPrefix + relative;

    private static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;

    private static SyncException RootUnwatchable(string root, int errno) => errno switch
    {
        Posix.ENOENT => new SyncException(ErrorIds.SourceNotFound, SyncErrorKind.NotFound, $"Cannot watch '{root}': it does not exist.", root),
        Posix.ENOTDIR => new SyncException(ErrorIds.SourceNotDirectory, SyncErrorKind.InvalidArgument, $"Cannot watch '{root}': it is not a directory.", root),
        Posix.EACCES => new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied, $"Cannot watch '{root}': permission denied.", root),
        Posix.ENOSPC => new SyncException(ErrorIds.WatchUnavailable, SyncErrorKind.LimitsExceeded,
            $"Cannot watch '{root}': the user's inotify watch limit ({Limit(WatchLimitPath)}, {WatchLimitPath}) is reached.", root),
        _ => new SyncException(ErrorIds.WatchUnavailable, SyncErrorKind.ReadError, $"Cannot watch '{root}': {Posix.Describe(errno)}.", root),
    };

    /// <summary>The value of a /proc/sys limit for a message, or "unknown".</summary>
    private static string Limit(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    /// <summary>A watched directory: its watch descriptor and its place in the tree (paths are computed from the chain of
    /// names, so they are always the current ones).</summary>
    private sealed class WatchedDirectory(int wd, string name, WatchedDirectory? parent)
    {
        public int Wd { get; } = wd;

        public string Name { get; } = name;

        public WatchedDirectory? Parent { get; } = parent;

        public Dictionary<string, WatchedDirectory> Children { get; } = new(StringComparer.Ordinal);

        public string Path => Parent is null ? "" : Join(Parent.Path, Name);
    }
}
