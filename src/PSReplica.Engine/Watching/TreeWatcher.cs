using PSReplica.Engine.Native;

namespace PSReplica.Engine.Watching;

/// <summary>Starts the tree watcher of a file-system backend: inotify for Linux's own calls, FileSystemWatcher for the
/// portable backend.</summary>
internal static class TreeWatcher
{
    /// <summary>Watches the tree at <paramref name="root"/>, every directory for which <paramref name="watchDirectory"/>
    /// (given a relative, '/'-separated path) says yes, or every one when it is null.</summary>
    /// <exception cref="SyncException">The root cannot be watched.</exception>
    public static ITreeWatcher Start(FileSystemBackendKind backend, string root, Func<string, bool>? watchDirectory = null) =>
        backend == FileSystemBackendKind.Linux && OperatingSystem.IsLinux()
            ? InotifyWatcher.Start(root, watchDirectory)
            : PortableWatcher.Start(root, watchDirectory);
}
