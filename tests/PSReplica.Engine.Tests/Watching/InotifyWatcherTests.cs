using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using PSReplica.Engine.Watching;

namespace PSReplica.Engine.Tests.Watching;

/// <summary>The inotify watcher of the Linux backend: the contract, and what only it can be asked (its watches, the
/// kernel's queue, its reader thread).</summary>
[SupportedOSPlatform("linux")]
[Collection(nameof(InotifyReaders))]
public sealed class InotifyWatcherTests : TreeWatcherContract
{
    private protected override ITreeWatcher Start(string root, Func<string, bool>? watchDirectory = null) => InotifyWatcher.Start(root, watchDirectory);

    /// <summary>What lets a batch go without waiting the settle time (ChangeBatches): a file's close after writing, its
    /// rename and its deletion are final; its creation and writes are not, since its writer may not be done.</summary>
    [Fact]
    public async Task A_files_close_rename_and_deletion_are_final_and_its_writes_are_not()
    {
        using InotifyWatcher watcher = InotifyWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle();

        using (var stream = new FileStream(At("f"), FileMode.CreateNew, FileAccess.Write))
        {
            Assert.False((await changes.Item("f")).Final);
            stream.WriteByte(1);
            stream.Flush();
            Assert.False((await changes.Item("f")).Final);
        }

        Assert.True((await changes.Item("f")).Final);
        File.Move(At("f"), At("g"));
        Assert.True((await changes.Item("f")).Final);
        Assert.True((await changes.Item("g")).Final);
        File.Delete(At("g"));
        Assert.True((await changes.Item("g")).Final);
        Directory.CreateDirectory(At("d"));
        Assert.True((await changes.Item("d")).Final);
    }

    [Fact]
    public async Task A_deleted_directory_leaves_no_watch_behind()
    {
        Directory.CreateDirectory(At("d/e/f"));
        Directory.CreateDirectory(At("kept"));
        using InotifyWatcher watcher = InotifyWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("d/e/f");
        Assert.Equal(["", "d", "d/e", "d/e/f", "kept"], await WatchedPaths(watcher, changes));

        Directory.Delete(At("d"), recursive: true);
        await changes.Item("d");
        await changes.Settle();
        Assert.Equal(["", "kept"], await WatchedPaths(watcher, changes));
    }

    [Fact]
    public async Task A_directory_moved_within_the_tree_is_watched_under_its_new_path_only()
    {
        Directory.CreateDirectory(At("a/b/c"));
        Directory.CreateDirectory(At("z"));
        using InotifyWatcher watcher = InotifyWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("a/b/c");

        Directory.Move(At("a/b"), At("z/moved"));
        await changes.Subtree("z/moved");
        await changes.Settle("z/moved/c");
        Assert.Equal(["", "a", "z", "z/moved", "z/moved/c"], await WatchedPaths(watcher, changes));
    }

    [Fact]
    public async Task A_directory_moved_out_keeps_no_watch_in_the_kernel_or_here()
    {
        Directory.CreateDirectory(At("d/e"));
        using InotifyWatcher watcher = InotifyWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("d/e");

        Directory.Move(At("d"), Path.Join(Outside, "away"));
        await changes.Item("d");
        await changes.Settle();
        Assert.Equal([""], await WatchedPaths(watcher, changes));
    }

    /// <summary>The reader is held (it does not read the descriptor) while more events are made than the kernel's queue
    /// holds, so the queue overflows whatever the machine's speed; max_queued_events itself is a machine-wide setting
    /// that other processes' new instances would get too, so it is read, not lowered.</summary>
    [Fact]
    public async Task An_overflow_of_the_kernels_queue_is_a_loss_of_the_whole_tree_and_the_watches_are_rebuilt()
    {
        Directory.CreateDirectory(At("sub"));
        File.WriteAllText(At("a"), "a");
        File.WriteAllText(At("b"), "b");
        using InotifyWatcher watcher = InotifyWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("sub");

        await Overflow(watcher, changes);
        Directory.CreateDirectory(At("made-during-overflow"));
        watcher.PauseForTest.Set();
        WatchChange lost = await changes.Lost("");
        Assert.Contains(InotifyWatcher.QueueLimitPath, lost.Reason, StringComparison.Ordinal);

        await changes.Settle("sub");
        await changes.Settle("made-during-overflow");
    }

    [Fact]
    public async Task The_root_moved_while_the_queue_overflowed_still_ends_the_watch()
    {
        File.WriteAllText(At("a"), "a");
        File.WriteAllText(At("b"), "b");
        using InotifyWatcher watcher = InotifyWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle();

        await Overflow(watcher, changes);
        Directory.Move(Source, Path.Join(Outside, "moved-root"));
        watcher.PauseForTest.Set();
        SyncException lost = await RootLost(watcher);
        Assert.Equal(ErrorIds.WatchRootLost, lost.ErrorId);
    }

    [Fact]
    public async Task A_watch_refused_for_the_users_limit_is_a_loss_of_that_subtree_and_the_rest_is_watched()
    {
        Directory.CreateDirectory(At("full/inner"));
        Directory.CreateDirectory(At("fine"));
        using InotifyWatcher watcher = InotifyWatcher.Start(Source, null,
            relative => relative is "full" or "later" ? Posix.ENOSPC : 0);
        var changes = new ChangeRecorder(watcher, Source);
        WatchChange lost = await changes.Lost("full");
        Assert.Contains(InotifyWatcher.WatchLimitPath, lost.Reason, StringComparison.Ordinal);
        await changes.Settle("fine");

        Directory.CreateDirectory(At("later/x"));
        lost = await changes.Lost("later");
        Assert.Contains(InotifyWatcher.WatchLimitPath, lost.Reason, StringComparison.Ordinal);
        await changes.Settle();
        int after = changes.Seen.Count;

        File.WriteAllText(At("full/inner/f.txt"), "unseen");
        File.WriteAllText(At("later/x/f.txt"), "unseen");
        await changes.Settle("fine");
        Assert.Empty(changes.Under("full", after));
        Assert.Empty(changes.Under("later", after));
        Assert.DoesNotContain(changes.Seen, c => c.Kind == WatchChangeKind.Subtree && c.RelativePath == "later");
        Assert.Equal(["", "fine"], await WatchedPaths(watcher, changes));
    }

    [Fact]
    public async Task A_watch_refused_for_permission_is_a_loss_and_one_for_a_vanished_directory_is_nothing()
    {
        Directory.CreateDirectory(At("denied"));
        Directory.CreateDirectory(At("vanished"));
        using InotifyWatcher watcher = InotifyWatcher.Start(Source, null,
            relative => relative switch { "denied" => Posix.EACCES, "vanished" => Posix.ENOENT, _ => 0 });
        var changes = new ChangeRecorder(watcher, Source);
        WatchChange lost = await changes.Lost("denied");
        Assert.Contains("permission denied", lost.Reason, StringComparison.Ordinal);
        await changes.Settle();
        Assert.Empty(changes.Under("vanished"));
    }

    [Fact]
    public void A_root_the_user_has_no_watch_left_for_is_refused_with_WatchUnavailable()
    {
        SyncException e = Assert.Throws<SyncException>(() => InotifyWatcher.Start(Source, null, relative => relative.Length == 0 ? Posix.ENOSPC : 0));
        Assert.Equal(ErrorIds.WatchUnavailable, e.ErrorId);
        Assert.Contains(InotifyWatcher.WatchLimitPath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_that_is_not_UTF8_is_reported_by_its_bytes()
    {
        Directory.CreateDirectory(At("sub"));
        using InotifyWatcher watcher = InotifyWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle("sub");

        TestTree.Run("sh", "-c", "cd \"$1\" && : > \"$(printf 'bad\\377name')\"", "sh", At("sub"));
        string name = "sub/" + NameCodec.Decode([(byte)'b', (byte)'a', (byte)'d', 0xFF, (byte)'n', (byte)'a', (byte)'m', (byte)'e']);
        _ = await changes.WaitFor(c => c.Kind == WatchChangeKind.Item && c.RelativePath == name, "Item 'sub/bad\\377name'");
        await changes.Settle("sub");
        Assert.DoesNotContain(changes.Under("sub"), c => c.Kind == WatchChangeKind.Lost);
    }

    [Fact]
    public async Task A_directory_whose_name_is_not_UTF8_is_watched_by_its_bytes()
    {
        TestTree.Run("sh", "-c", "cd \"$1\" && mkdir \"$(printf 'dir\\377')\"", "sh", Source);
        using InotifyWatcher watcher = InotifyWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        string directory = NameCodec.Decode([(byte)'d', (byte)'i', (byte)'r', 0xFF]);
        // Start watches every directory there before it returns; a file made in this one afterwards is seen only if
        // the watch was added by the directory's own bytes.

        TestTree.Run("sh", "-c", "cd \"$1\" && : > \"$(printf 'dir\\377/f')\"", "sh", Source);
        _ = await changes.WaitFor(c => c.Kind == WatchChangeKind.Item && c.RelativePath == directory + "/f", "Item 'dir\\377/f'");
        Assert.DoesNotContain(changes.Under(directory), c => c.Kind == WatchChangeKind.Lost);
        TestTree.Run("/bin/rm", "-rf", "--", Path.Join(Source, directory));
    }

    [Fact]
    public async Task Dispose_stops_the_reader_blocked_in_poll_and_its_thread_ends()
    {
        InotifyWatcher watcher = InotifyWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle();
        Assert.True(watcher.ReaderForTest.IsAlive);

        await Task.Run(watcher.Dispose).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(watcher.ReaderForTest.IsAlive);
        await Drain(watcher);
        Assert.True(watcher.Changes.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Dispose_stops_a_held_reader_too()
    {
        InotifyWatcher watcher = InotifyWatcher.Start(Source);
        var changes = new ChangeRecorder(watcher, Source);
        await changes.Settle();
        await Park(watcher, changes);

        await Task.Run(watcher.Dispose).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(watcher.ReaderForTest.IsAlive);
    }

    /// <summary>Zero CPU while idle, shown by what the kernel says the reader is doing rather than by timing it: once the
    /// changes are read it is asleep in poll(2) (or ppoll) with no timeout, so nothing wakes it but an event or Dispose.</summary>
    [Fact]
    public async Task An_idle_reader_sleeps_in_poll_without_a_timeout()
    {
        Assert.True(RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64, "the syscall numbers below are x64's and arm64's only");
        using InotifyWatcher watcher = InotifyWatcher.Start(Source);
        await new ChangeRecorder(watcher, Source).Settle();

        // The reader's name as Linux keeps it (15 bytes); only the classes of InotifyReaders make readers, one test at a time.
        string task = Directory.EnumerateDirectories("/proc/self/task")
            .Single(t => Name(t) == "PSReplica inoti");
        string[] call = [];
        var bound = System.Diagnostics.Stopwatch.StartNew();
        while (bound.Elapsed < TimeSpan.FromSeconds(30))
        {
            // Just after the marker it may still be on its way back to poll: wait for it to get there.
            call = File.ReadAllText(Path.Join(task, "syscall")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (call.Length > 3 && IsPoll(call[0]))
            {
                break;
            }

            Thread.Yield();
        }

        Assert.True(call.Length > 3 && IsPoll(call[0]), $"the reader is not in poll: {string.Join(' ', call)}");
        Assert.Equal("0x2", call[2]);
        // poll's third argument is its timeout in milliseconds (-1: none); ppoll's a struct timespec pointer (NULL: none).
        string[] noTimeout = call[0] == "7" ? ["0xffffffff", "0xffffffffffffffff"] : ["0x0"];
        Assert.Contains(call[3], noTimeout);
    }

    /// <summary>A thread's name, or null for one that ended while the threads were listed.</summary>
    private static string? Name(string task)
    {
        try
        {
            return File.ReadAllText(Path.Join(task, "comm")).TrimEnd('\n');
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsPoll(string number) => RuntimeInformation.ProcessArchitecture == Architecture.X64
        ? number is "7" or "271"
        : number == "73";

    [Fact]
    public void The_linux_backend_gets_the_inotify_watcher()
    {
        using ITreeWatcher watcher = TreeWatcher.Start(FileSystemBackendKind.Linux, Source);
        Assert.IsType<InotifyWatcher>(watcher);
    }

    /// <summary>Holds the reader, then makes more events than the kernel's queue holds (attribute changes of the files "a"
    /// and "b" of the root, alternately: the kernel merges an event only into an identical one just before it). The
    /// reader stays held.</summary>
    private async Task Overflow(InotifyWatcher watcher, ChangeRecorder changes)
    {
        int queue = int.Parse(File.ReadAllText(InotifyWatcher.QueueLimitPath).Trim(), CultureInfo.InvariantCulture);
        await Park(watcher, changes);
        DateTime time = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i <= queue + 16; i++)
        {
            File.SetLastWriteTimeUtc(At(i % 2 == 0 ? "a" : "b"), time.AddSeconds(i));
        }
    }

    /// <summary>Holds the reader before its next poll: a marker wakes it if it is blocked there.</summary>
    private static async Task Park(InotifyWatcher watcher, ChangeRecorder changes)
    {
        watcher.PauseForTest.Reset();
        File.WriteAllText(Path.Join(watcher.Root, ".wake-" + changes.Seen.Count.ToString(CultureInfo.InvariantCulture)), "w");
        Assert.True(await Task.Run(() => watcher.ParkedForTest.Wait(TimeSpan.FromSeconds(30))), "the reader did not stop");
    }

    /// <summary>The watched directories, read while the reader is held (it alone changes them).</summary>
    private static async Task<List<string>> WatchedPaths(InotifyWatcher watcher, ChangeRecorder changes)
    {
        await Park(watcher, changes);
        try
        {
            return watcher.WatchedPathsForTest();
        }
        finally
        {
            watcher.PauseForTest.Set();
        }
    }
}
