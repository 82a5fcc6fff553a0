using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Tests.Execution;

public sealed class PlanRunnerTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private static SyncSummary Run(SyncOptions options, RecordingObserver observer) =>
        LocalReplicator.Run(options, observer, CancellationToken.None);

    private SyncSummary Run(RecordingObserver observer, bool delete = false) => Run(_tree.Options(delete), observer);

    /// <summary>Asserts that the destination holds the same names, kinds, contents, modes, times and link targets as the source.</summary>
    private static void AssertReplica(string source, string destination)
    {
        Assert.Equal(TestTree.Listing(source), TestTree.Listing(destination));
        AssertSameItem(source, destination, isRoot: true);
        foreach (string relative in TestTree.Listing(source))
        {
            AssertSameItem(Path.Join(source, relative), Path.Join(destination, relative), isRoot: false);
        }
    }

    private static void AssertSameItem(string source, string destination, bool isRoot)
    {
        StatInfo s = TestTree.Stat(source);
        StatInfo d = TestTree.Stat(destination);
        Assert.True(s.FileType == d.FileType, $"type of {destination}");
        Assert.True(s.MtimeSeconds == d.MtimeSeconds && s.MtimeNanoseconds == d.MtimeNanoseconds,
            $"mtime of {destination}: {s.MtimeSeconds}.{s.MtimeNanoseconds:D9} vs {d.MtimeSeconds}.{d.MtimeNanoseconds:D9}");
        if (s.FileType == Posix.SIflnk)
        {
            Assert.Equal(new FileInfo(source).LinkTarget, new FileInfo(destination).LinkTarget);
            return;
        }

        Assert.True(s.Permissions == d.Permissions, $"mode of {destination}: {Convert.ToString(s.Permissions, 8)} vs {Convert.ToString(d.Permissions, 8)}");
        if (s.FileType == Posix.SIfreg)
        {
            Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(destination));
        }

        _ = isRoot;
    }

    private static void AssertNoTemporaryFiles(string root) =>
        Assert.DoesNotContain(TestTree.Listing(root), p => TempFileNames.IsTemporary(Path.GetFileName(p)));

    private void BuildRichSource()
    {
        _tree.Src("empty.bin", string.Empty);
        _tree.Src("one", "1");
        _tree.Src("text.txt", "hello\nworld\n");
        File.WriteAllBytes(Path.Join(_tree.Source, "random.bin"), RandomBytes(300_000, 7));
        _tree.Src("d1/d2/d3/deep.txt", "deep");
        _tree.Src("d1/sibling", "s");
        Directory.CreateDirectory(Path.Join(_tree.Source, "emptydir"));
        _tree.Src("unicodé/ファイル.txt", "ü");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "rel-link"), "text.txt");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "d1/dangling"), "../nowhere");
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "one"), 0x1ED)); // 0755
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "text.txt"), 0x180)); // 0600
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "d1/d2"), 0x1E8)); // 0750
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "d1/d2/d3"), 0x16D)); // 0555: read-only, filled first
        TestTree.SetTime(Path.Join(_tree.Source, "text.txt"), 1_234_567_890, 123_456_789);
        TestTree.SetTime(Path.Join(_tree.Source, "rel-link"), 1_111_111_111, 5);
        TestTree.SetTime(Path.Join(_tree.Source, "d1/d2/d3/deep.txt"), 1_300_000_000, 999_999_999);
        TestTree.SetTime(Path.Join(_tree.Source, "d1/d2/d3"), 1_200_000_000, 42);
        TestTree.SetTime(Path.Join(_tree.Source, "d1"), 1_100_000_000, 1);
        TestTree.SetTime(Path.Join(_tree.Source, "emptydir"), 1_000_000_000, 0);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void A_new_replica_equals_the_source()
    {
        BuildRichSource();
        var observer = new RecordingObserver();
        SyncSummary summary = Run(observer);

        Assert.Empty(observer.Errors);
        AssertReplica(_tree.Source, _tree.Destination);
        AssertNoTemporaryFiles(_tree.Destination);
        Assert.Equal(0, summary.Errors);
        Assert.Equal(observer.Items.Count, summary.Created);
        Assert.Equal(new FileInfo(Path.Join(_tree.Source, "random.bin")).Length + 1 + 12 + 4 + 1 + 2 + 0, summary.BytesTransferred);
        Assert.Equal(summary.TotalBytes, summary.BytesTransferred);
    }

    [Fact]
    public void An_existing_replica_is_brought_up_to_date()
    {
        BuildRichSource();
        _tree.Dst("text.txt", "stale content that is longer");
        // Same size as the source's "one": only a whole-second time difference makes the quick check see it.
        File.SetLastWriteTimeUtc(_tree.Dst("one", "1"), new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        _tree.Dst("extra/file", "x");
        _tree.Dst("d1/d2", "a file where a directory belongs");
        Directory.CreateDirectory(Path.Join(_tree.Destination, "rel-link"));
        File.CreateSymbolicLink(Path.Join(_tree.Destination, "d1/sibling"), "elsewhere");

        var observer = new RecordingObserver();
        SyncSummary summary = Run(observer, delete: true);

        Assert.Empty(observer.Errors);
        AssertReplica(_tree.Source, _tree.Destination);
        Assert.True(summary.Deleted >= 3, $"deleted {summary.Deleted}");
        Assert.True(summary.Updated >= 1, $"updated {summary.Updated}");
        Assert.Empty(LocalReplicator.Plan(_tree.Options(delete: true), new RecordingObserver(), CancellationToken.None).Items);
    }

    [Theory]
    [InlineData("d", "link")]
    [InlineData("d", "a-link")]
    [InlineData("d/", "link")]
    public void A_symlink_to_a_directory_is_replicated(string target, string name)
    {
        _tree.Src("d/f", "x");
        File.CreateSymbolicLink(Path.Join(_tree.Source, name), target);

        var observer = new RecordingObserver();
        Run(observer);

        Assert.Empty(observer.Errors);
        Assert.Equal(target, new FileInfo(Path.Join(_tree.Destination, name)).LinkTarget);
        AssertNoTemporaryFiles(_tree.Destination);
    }

    [Fact]
    public void A_symlink_retargeted_to_a_directory_is_updated()
    {
        _tree.Src("d/f", "x");
        _tree.Dst("d/f", "x");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "link"), "d");
        File.CreateSymbolicLink(Path.Join(_tree.Destination, "link"), "d/f");

        var observer = new RecordingObserver();
        Run(observer);

        Assert.Empty(observer.Errors);
        Assert.Equal("d", new FileInfo(Path.Join(_tree.Destination, "link")).LinkTarget);
    }

    [Fact]
    public void An_update_replaces_the_file_by_rename_so_open_readers_keep_the_old_content()
    {
        _tree.Src("f", "new content");
        _tree.Dst("f", "old");
        string target = Path.Join(_tree.Destination, "f");
        ulong oldInode = TestTree.Stat(target).Inode;
        using var reader = new FileStream(target, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

        Run(new RecordingObserver());

        Assert.Equal("new content", File.ReadAllText(target));
        Assert.NotEqual(oldInode, TestTree.Stat(target).Inode);
        using var old = new StreamReader(reader);
        Assert.Equal("old", old.ReadToEnd());
    }

    [Fact]
    public void A_cancelled_copy_leaves_the_old_content_and_no_temporary_file()
    {
        const int Size = 100 << 20;
        string source = Path.Join(_tree.Source, "big");
        using (var stream = new FileStream(source, FileMode.CreateNew, FileAccess.Write))
        {
            byte[] block = RandomBytes(1 << 20, 1);
            for (int i = 0; i < Size / block.Length; i++)
            {
                stream.Write(block);
            }
        }

        string target = _tree.Dst("big", "old content");

        // The update of "big" must be the plan's only action: progress is throttled from the previous report, so
        // the copy's first chunk is reported only when nothing was reported just before it.
        _tree.FreezeBoth();
        Assert.Single(LocalReplicator.Plan(_tree.Options(), new RecordingObserver(), CancellationToken.None).Items);
        using var cts = new CancellationTokenSource();
        string? seenDuringCopy = null;
        bool tempSeenDuringCopy = false;
        var observer = new RecordingObserver
        {
            OnProgressHook = p =>
            {
                if (p.Phase == SyncPhase.Transferring && p.CurrentPath == "big" && p.CurrentBytesDone > 0 && !cts.IsCancellationRequested)
                {
                    seenDuringCopy = File.ReadAllText(target);
                    tempSeenDuringCopy = Directory.EnumerateFiles(_tree.Destination).Any(f => TempFileNames.IsTemporary(Path.GetFileName(f)));
                    cts.Cancel();
                }
            },
        };

        Assert.ThrowsAny<OperationCanceledException>(() => LocalReplicator.Run(_tree.Options(), observer, cts.Token));

        Assert.True(cts.IsCancellationRequested, "the copy reported no progress before finishing");
        Assert.Equal("old content", seenDuringCopy);
        Assert.True(tempSeenDuringCopy, "the copy did not go through a temporary file beside the target");
        Assert.Equal("old content", File.ReadAllText(target));
        AssertNoTemporaryFiles(_tree.Destination);
        Assert.Empty(observer.Items);
    }

    [Fact]
    public void Leftover_temporary_files_are_removed_by_the_next_run()
    {
        _tree.Src("f", "x");
        _tree.Src("sub/g", "y");
        string top = _tree.Dst(TempFileNames.For("f"), "partial");
        string nested = _tree.Dst("sub/" + TempFileNames.For("g"), "partial");

        var observer = new RecordingObserver();
        SyncSummary summary = Run(observer);

        Assert.Empty(observer.Errors);
        Assert.False(File.Exists(top));
        Assert.False(File.Exists(nested));
        Assert.Contains(observer.Items, i => i.Reason == SyncReason.TemporaryFile && i.RelativePath == Path.GetFileName(top));
        Assert.Contains(observer.Items, i => i.Reason == SyncReason.TemporaryFile && i.RelativePath == "sub/" + Path.GetFileName(nested));
        Assert.Equal("x", File.ReadAllText(Path.Join(_tree.Destination, "f")));
        Assert.Equal(0, summary.Errors);
    }

    [Fact]
    public void An_extraneous_directory_holding_a_temporary_file_is_deleted_with_Delete()
    {
        _tree.Src("f", "x");
        _tree.Dst("doomed/" + TempFileNames.For("h"), "partial");
        _tree.Dst("doomed/h", "h");

        var observer = new RecordingObserver();
        SyncSummary summary = Run(observer, delete: true);

        Assert.Empty(observer.Errors);
        Assert.False(Directory.Exists(Path.Join(_tree.Destination, "doomed")));
        Assert.Equal(0, summary.Errors);
    }

    [Fact]
    public void An_ordinary_file_that_looks_almost_temporary_is_kept()
    {
        _tree.Src("f", "x");
        string keep = _tree.Dst(".~psrXYZ~f", "mine");
        Run(new RecordingObserver());
        Assert.True(File.Exists(keep));
    }

    [Fact]
    public void MaxDelete_stops_deletions_and_reports_MaxDeleteExceeded()
    {
        _tree.Src("keep", "k");
        for (int i = 0; i < 5; i++)
        {
            _tree.Dst($"extra{i}", "x");
        }

        _tree.Dst(TempFileNames.For("keep"), "temp files do not count");
        var observer = new RecordingObserver();
        SyncSummary summary = Run(_tree.Options(delete: true) with { MaxDelete = 2 }, observer);

        Assert.Equal(2, summary.Deleted - observer.Items.Count(i => i.Reason == SyncReason.TemporaryFile));
        Assert.Equal(3, Directory.EnumerateFiles(_tree.Destination, "extra*").Count());
        // rsync's choice: a directory's extraneous items are taken in reverse name order.
        Assert.Equal(["extra4", "extra3"], observer.Items.Where(i => i.Reason == SyncReason.Extraneous).Select(i => i.RelativePath));
        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.MaxDeleteExceeded, error.ErrorId);
        Assert.Equal(SyncErrorKind.LimitsExceeded, error.Kind);
        Assert.Equal(1, summary.Errors);
        Assert.Equal(3, summary.Skipped);
        Assert.DoesNotContain(TestTree.Listing(_tree.Destination), p => TempFileNames.IsTemporary(p));
        Assert.True(File.Exists(Path.Join(_tree.Destination, "keep")));
    }

    [Fact]
    public void MaxDelete_zero_deletes_nothing()
    {
        _tree.Src("keep", "k");
        _tree.Dst("extra", "x");
        var observer = new RecordingObserver();
        Run(_tree.Options(delete: true) with { MaxDelete = 0 }, observer);
        Assert.True(File.Exists(Path.Join(_tree.Destination, "extra")));
        Assert.Equal(ErrorIds.MaxDeleteExceeded, Assert.Single(observer.Errors).ErrorId);
    }

    [Fact]
    public void MaxDelete_is_not_an_error_when_the_limit_is_not_reached()
    {
        _tree.Src("keep", "k");
        _tree.Dst("extra", "x");
        var observer = new RecordingObserver();
        SyncSummary summary = Run(_tree.Options(delete: true) with { MaxDelete = 1 }, observer);
        Assert.Empty(observer.Errors);
        Assert.Equal(1, summary.Deleted);
    }

    /// <summary>Issue 18: a source file that became a directory between the plan and its copy is a change on the source's
    /// side (SourceChangedSinceListing), not a write error at the destination; nothing is put in place for it, and the
    /// next run converges.</summary>
    [Fact]
    public void A_file_that_became_a_directory_after_the_plan_is_a_source_change_not_a_write_error()
    {
        _tree.Src("shifty", "a file when planned");
        _tree.Src("steady.txt", "s");
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(_tree.Options(), observer, CancellationToken.None);
        File.Delete(Path.Join(_tree.Source, "shifty"));
        _tree.Src("shifty/inside.txt", "now a directory");

        LocalReplicator.Execute(plan, observer, CancellationToken.None);

        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal((ErrorIds.SourceChangedSinceListing, "shifty"), (error.ErrorId, error.Target));
        Assert.False(Path.Exists(Path.Join(_tree.Destination, "shifty")));
        Assert.Equal(["steady.txt"], TestTree.Listing(_tree.Destination));

        var again = new RecordingObserver();
        LocalReplicator.Run(_tree.Options(), again, CancellationToken.None);
        Assert.Empty(again.Errors);
        Assert.Equal("now a directory", File.ReadAllText(Path.Join(_tree.Destination, "shifty/inside.txt")));
    }

    [Fact]
    public void Deletions_are_skipped_after_a_scan_error()
    {
        // As root nothing is unlistable; a dangling link under -CopyLinks is an I/O error as in rsync -L.
        _tree.Src("keep", "k");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "dangling"), "nowhere");
        _tree.Dst("extra", "x");
        _tree.Dst("extradir/y", "y");

        var observer = new RecordingObserver();
        SyncSummary summary = Run(_tree.Options(delete: true) with { CopyLinks = true }, observer);

        Assert.True(File.Exists(Path.Join(_tree.Destination, "extra")));
        Assert.True(File.Exists(Path.Join(_tree.Destination, "extradir/y")));
        Assert.Equal("k", File.ReadAllText(Path.Join(_tree.Destination, "keep")));
        Assert.Contains(observer.Errors, e => e.ErrorId == ErrorIds.DeletionSkippedAfterIoError);
        Assert.Contains(observer.Errors, e => e.ErrorId == ErrorIds.SymbolicLinkNoReferent);
        Assert.True(summary.DeletionsSkipped);
        Assert.Equal(0, summary.Deleted);
        Assert.Equal(2, summary.Errors);
    }

    [Fact]
    public void Deletions_are_skipped_when_the_plan_records_a_scan_error()
    {
        _tree.Src("keep", "k");
        _tree.Dst("extra", "x");
        _tree.Dst(TempFileNames.For("keep"), "temp");
        SyncPlan plan = LocalReplicator.Plan(_tree.Options(delete: true), new RecordingObserver(), CancellationToken.None);
        Assert.Contains(plan.Items, i => i.Reason == SyncReason.Extraneous);
        plan.MutableScanErrors.Add(new SyncException(ErrorIds.ScanError, SyncErrorKind.ReadError, "simulated", "somewhere"));

        var observer = new RecordingObserver();
        SyncSummary summary = LocalReplicator.Execute(plan, observer, CancellationToken.None);

        Assert.True(File.Exists(Path.Join(_tree.Destination, "extra")));
        Assert.True(File.Exists(Path.Join(_tree.Destination, "keep")));
        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.DeletionSkippedAfterIoError, error.ErrorId);
        Assert.True(summary.DeletionsSkipped);
        Assert.Equal(2, summary.Errors);
        Assert.DoesNotContain(TestTree.Listing(_tree.Destination), p => TempFileNames.IsTemporary(p));
    }

    [Fact]
    public void Directory_times_are_applied_after_their_contents()
    {
        _tree.Src("a/b/c/file", "x");
        _tree.Src("a/other", "y");
        TestTree.Freeze(_tree.Source, 1_000_000_000);
        TestTree.SetTime(Path.Join(_tree.Source, "a/b"), 1_000_000_123, 456);

        Run(new RecordingObserver());
        AssertReplica(_tree.Source, _tree.Destination);

        // A second run that only adds a file inside must restore the directory's time afterwards too.
        _tree.Src("a/b/c/new", "z");
        TestTree.SetTime(Path.Join(_tree.Source, "a/b/c"), 1_000_000_000);
        Run(new RecordingObserver());
        AssertReplica(_tree.Source, _tree.Destination);
    }

    [Fact]
    public void Read_only_source_directories_are_filled_and_then_made_read_only()
    {
        _tree.Src("ro/inner/f", "x");
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "ro/inner"), 0x16D)); // 0555
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "ro"), 0x16D));
        var observer = new RecordingObserver();
        Run(observer);
        Assert.Empty(observer.Errors);
        AssertReplica(_tree.Source, _tree.Destination);
    }

    [Fact]
    public void Declining_a_directory_skips_its_contents_without_asking()
    {
        _tree.Src("d/f", "x");
        _tree.Src("d/sub/g", "y");
        _tree.Src("other", "z");
        var observer = new RecordingObserver { Approve = item => item.RelativePath != "d" };

        SyncSummary summary = Run(observer);

        Assert.False(Directory.Exists(Path.Join(_tree.Destination, "d")));
        Assert.True(File.Exists(Path.Join(_tree.Destination, "other")));
        Assert.DoesNotContain(observer.Asked, i => i.RelativePath.StartsWith("d/", StringComparison.Ordinal));
        Assert.Equal(4, summary.Skipped);
        Assert.Empty(observer.Errors);
    }

    [Fact]
    public void Declining_the_root_does_nothing()
    {
        _tree.Src("f", "x");
        var observer = new RecordingObserver { Approve = _ => false };
        SyncSummary summary = Run(observer);
        Assert.False(Directory.Exists(_tree.Destination));
        Assert.Single(observer.Asked);
        Assert.Equal(0, summary.Created);
    }

    [Fact]
    public void Declining_a_deletion_keeps_the_item()
    {
        _tree.Src("keep", "k");
        _tree.Dst("extra", "x");
        var observer = new RecordingObserver { Approve = item => item.Action != SyncAction.Delete };
        Run(observer, delete: true);
        Assert.True(File.Exists(Path.Join(_tree.Destination, "extra")));
    }

    [Fact]
    public void Each_completed_action_is_reported_once_in_plan_order()
    {
        _tree.Src("a", "1");
        _tree.Src("b/c", "2");
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(_tree.Options(), observer, CancellationToken.None);
        LocalReplicator.Execute(plan, observer, CancellationToken.None);
        Assert.Equal(plan.Items.Select(i => i.RelativePath), observer.Items.Select(i => i.RelativePath));
        Assert.Equal(1, observer.Items.Single(i => i.RelativePath == "a").BytesTransferred);
        Assert.Contains(observer.Progress, p => p.Phase == SyncPhase.Completed && p.ActionsDone == plan.Count);
    }

    [Fact]
    public void Without_Preserve_Times_files_get_the_current_time()
    {
        _tree.Src("f", "x");
        TestTree.SetTime(Path.Join(_tree.Source, "f"), 1_000_000_000);
        Run(_tree.Options() with { Preserve = PreserveOptions.Permissions }, new RecordingObserver());
        Assert.True(TestTree.Stat(Path.Join(_tree.Destination, "f")).MtimeSeconds > 1_600_000_000);
    }

    [Fact]
    public void Without_Preserve_Permissions_new_files_get_the_source_mode_minus_the_umask()
    {
        _tree.Src("f", "x");
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "f"), 0x1FF)); // 0777
        Run(_tree.Options() with { Preserve = PreserveOptions.Times }, new RecordingObserver());
        Assert.Equal(0x1FF & ~Posix.Umask, TestTree.Stat(Path.Join(_tree.Destination, "f")).Permissions);
    }

    [Fact]
    public void A_write_failure_is_a_per_item_error_and_the_run_goes_on()
    {
        _tree.Src("a/f", "x");
        _tree.Src("b", "y");
        // A file where the executor must create a directory's child: the parent "a" is planned as existing.
        Directory.CreateDirectory(_tree.Destination);
        SyncPlan plan = LocalReplicator.Plan(_tree.Options(), new RecordingObserver(), CancellationToken.None);
        _tree.Dst("a", "in the way");

        var observer = new RecordingObserver();
        SyncSummary summary = LocalReplicator.Execute(plan, observer, CancellationToken.None);

        Assert.NotEmpty(observer.Errors);
        Assert.Equal("y", File.ReadAllText(Path.Join(_tree.Destination, "b")));
        Assert.True(summary.Errors >= 1);
    }
}
