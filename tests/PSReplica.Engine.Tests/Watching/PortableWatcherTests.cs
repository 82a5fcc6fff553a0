using PSReplica.Engine.Watching;

namespace PSReplica.Engine.Tests.Watching;

/// <summary>The FileSystemWatcher-based watcher of the portable backend (here on Linux, where .NET runs it on inotify).</summary>
public sealed class PortableWatcherTests : TreeWatcherContract
{
    private protected override ITreeWatcher Start(string root, Func<string, bool>? watchDirectory = null) => PortableWatcher.Start(root, watchDirectory);

    /// <summary>A real overflow of FileSystemWatcher's buffer cannot be provoked on demand (its reader cannot be held), so
    /// the Error event it raises then is raised by hand.</summary>
    [Fact]
    public async Task An_overflow_of_the_watchers_buffer_is_a_loss_of_the_whole_tree()
    {
        using PortableWatcher watcher = PortableWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle();

        watcher.RaiseErrorForTest(new InternalBufferOverflowException("too many changes"));
        WatchChange lost = await changes.Lost("");
        Assert.Contains("buffer", lost.Reason, StringComparison.Ordinal);
        await changes.Settle();
    }

    [Fact]
    public async Task An_error_once_the_root_is_gone_ends_the_watch_with_WatchRootLost()
    {
        using PortableWatcher watcher = PortableWatcher.Start(Source);
        Directory.Delete(Source);
        watcher.RaiseErrorForTest(new IOException("gone"));
        SyncException lost = await RootLost(watcher);
        Assert.Equal(ErrorIds.WatchRootLost, lost.ErrorId);
    }

    [Fact]
    public void The_portable_backend_gets_the_portable_watcher()
    {
        using ITreeWatcher watcher = TreeWatcher.Start(FileSystemBackendKind.Portable, Source);
        Assert.IsType<PortableWatcher>(watcher);
    }
}
