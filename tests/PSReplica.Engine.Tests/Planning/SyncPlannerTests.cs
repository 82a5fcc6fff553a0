using PSReplica.Engine.Planning;

namespace PSReplica.Engine.Tests.Planning;

public sealed class SyncPlannerTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private static (SyncPlan Plan, RecordingObserver Observer) Plan(SyncOptions options)
    {
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(options, observer, CancellationToken.None);
        return (plan, observer);
    }

    private SyncPlan Plan(Func<SyncOptions, SyncOptions>? configure = null, bool delete = false) =>
        Plan(configure is null ? _tree.Options(delete) : configure(_tree.Options(delete))).Plan;

    private static string[] Lines(SyncPlan plan) => plan.Items.Select(i => i.Itemize + " " + i.RelativePath).ToArray();

    private static SyncItem Single(SyncPlan plan, string relative) => Assert.Single(plan.Items, i => i.RelativePath == relative);

    [Fact]
    public void A_new_tree_is_created_root_first_with_rsync_itemize_strings()
    {
        _tree.Src("b.txt", "bee");
        _tree.Src("d/e.txt", "e");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "link"), "b.txt");

        SyncPlan plan = Plan();

        Assert.Equal(
            ["cd+++++++++ .", ">f+++++++++ b.txt", "cd+++++++++ d", ">f+++++++++ d/e.txt", "cL+++++++++ link"],
            Lines(plan));
        Assert.All(plan.Items, i => Assert.Equal(SyncAction.Create, i.Action));
        Assert.All(plan.Items, i => Assert.Equal(SyncReason.New, i.Reason));
        Assert.Equal(SyncItemType.SymbolicLink, Single(plan, "link").ItemType);
        Assert.Equal("b.txt", Single(plan, "link").LinkTarget);
        Assert.Equal(3, Single(plan, "b.txt").Length);
        Assert.Equal(ActionKind.CreateRoot, plan.Actions[0].Kind);
        Assert.Equal(4, plan.BytesToTransfer);
        Assert.Equal(2, plan.FilesTotal);
        Assert.Equal(4, plan.ItemsTotal);
        Assert.Empty(plan.ScanErrors);
    }

    [Fact]
    public void Nothing_is_written_while_planning()
    {
        _tree.Src("a", "x");
        _ = Plan(delete: true);
        Assert.False(Directory.Exists(_tree.Destination));
    }

    [Fact]
    public void Identical_trees_give_an_empty_plan()
    {
        _tree.Src("a/b/c.txt", "c");
        _tree.Dst("a/b/c.txt", "c");
        _tree.FreezeBoth();
        Assert.Empty(Lines(Plan(delete: true)));
    }

    [Fact]
    public void A_tree_replicated_by_a_run_converges()
    {
        _tree.Src("a/b/c.txt", "c");
        _tree.Src("x", "xx");
        Directory.CreateDirectory(Path.Join(_tree.Source, "empty"));
        File.CreateSymbolicLink(Path.Join(_tree.Source, "a/l"), "../x");
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "x"), 0x1ED)); // 0755
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "a"), 0x1C0)); // 0700
        TestTree.SetTime(Path.Join(_tree.Source, "a/b/c.txt"), 1_500_000_000, 123_456_789);

        var observer = new RecordingObserver();
        SyncSummary summary = LocalReplicator.Run(_tree.Options(delete: true), observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        Assert.Equal(0, summary.Errors);

        Assert.Empty(Lines(Plan(delete: true)));
    }

    [Fact]
    public void A_size_change_is_an_update_with_s_and_t()
    {
        _tree.Src("f", "longer");
        _tree.Dst("f", "short");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "f"), TestTree.BaseTime + 10);

        SyncItem item = Single(Plan(), "f");
        Assert.Equal(SyncAction.Update, item.Action);
        Assert.Equal(SyncReason.SizeChanged, item.Reason);
        Assert.Equal(">f.st......", item.Itemize);
    }

    [Fact]
    public void A_size_change_with_the_same_time_shows_only_s()
    {
        _tree.Src("f", "longer");
        _tree.Dst("f", "short");
        _tree.FreezeBoth();
        SyncItem item = Single(Plan(), "f");
        Assert.Equal(SyncReason.SizeChanged, item.Reason);
        Assert.Equal(">f.s.......", item.Itemize);
    }

    [Fact]
    public void A_time_change_is_an_update()
    {
        _tree.Src("f", "same");
        _tree.Dst("f", "same");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "f"), TestTree.BaseTime - 100);

        SyncItem item = Single(Plan(), "f");
        Assert.Equal(SyncAction.Update, item.Action);
        Assert.Equal(SyncReason.TimeChanged, item.Reason);
        Assert.Equal(">f..t......", item.Itemize);
    }

    [Fact]
    public void A_nanosecond_difference_counts_only_with_a_negative_modify_window()
    {
        _tree.Src("f", "same");
        _tree.Dst("f", "same");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "f"), TestTree.BaseTime, 1);

        // rsync's default window 0 compares whole seconds; -@-1 compares nanoseconds.
        Assert.Empty(Plan().Items);
        Assert.Equal(SyncReason.TimeChanged, Single(Plan(o => o with { ModifyWindow = -1 }), "f").Reason);
    }

    [Fact]
    public void The_watchs_catch_up_compares_directories_times_to_the_nanosecond_and_files_as_ever()
    {
        _tree.Src("d/f", "same");
        _tree.Dst("d/f", "same");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "d", "f"), TestTree.BaseTime, 1);
        TestTree.SetTime(Path.Join(_tree.Source, "d"), TestTree.BaseTime, 250_000_000);

        // A run compares whole seconds, as rsync does; the catch-up after a lost connection sets a directory's time that a
        // cut-off batch left a moment off, and still leaves a file whose time differs only below the second.
        Assert.Empty(Plan().Items);
        Assert.Equal([".d..t...... d"], Lines(Plan(o => o with { ExactDirectoryTimes = true })));
        // -ModifyWindow, given, is the user's word for every item.
        Assert.Empty(Plan(o => o with { ExactDirectoryTimes = true, ModifyWindow = 1 }).Items);
    }

    [Fact]
    public void A_whole_second_difference_counts_with_the_default_window()
    {
        _tree.Src("f", "same");
        _tree.Dst("f", "same");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "f"), TestTree.BaseTime + 1, 0);

        Assert.Equal(SyncReason.TimeChanged, Single(Plan(), "f").Reason);
    }

    [Fact]
    public void ModifyWindow_treats_close_times_as_equal()
    {
        _tree.Src("near", "same");
        _tree.Dst("near", "same");
        _tree.Src("far", "same");
        _tree.Dst("far", "same");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "near"), TestTree.BaseTime + 2, 999_999_999);
        TestTree.SetTime(Path.Join(_tree.Source, "far"), TestTree.BaseTime + 3, 1);

        SyncPlan plan = Plan(o => o with { ModifyWindow = 2 });
        Assert.Equal([">f..t...... far"], Lines(plan));
    }

    [Fact]
    public void A_ModifyWindow_below_minus_one_is_rejected()
    {
        SyncException ex = Assert.Throws<SyncException>(() => Plan(o => o with { ModifyWindow = -2 }));
        Assert.Equal(ErrorIds.InvalidParameterCombination, ex.ErrorId);
    }

    [Fact]
    public void Update_skips_files_that_are_newer_in_the_destination()
    {
        _tree.Src("newer-in-dst", "source");
        _tree.Dst("newer-in-dst", "destination");
        _tree.Src("older-in-dst", "source");
        _tree.Dst("older-in-dst", "destination");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Destination, "newer-in-dst"), TestTree.BaseTime + 60);
        TestTree.SetTime(Path.Join(_tree.Destination, "older-in-dst"), TestTree.BaseTime - 60);

        SyncPlan plan = Plan(o => o with { Update = true });
        Assert.Equal([">f.st...... older-in-dst"], Lines(plan));
    }

    [Fact]
    public void IgnoreExisting_creates_only_new_files()
    {
        _tree.Src("existing", "new content");
        _tree.Dst("existing", "old");
        _tree.Src("fresh", "x");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Destination, "existing"), TestTree.BaseTime - 60);

        SyncPlan plan = Plan(o => o with { IgnoreExisting = true });
        Assert.Equal([">f+++++++++ fresh"], Lines(plan));
    }

    [Fact]
    public void SizeOnly_ignores_times_for_content_but_still_fixes_the_time()
    {
        _tree.Src("same-size", "aaaa");
        _tree.Dst("same-size", "bbbb");
        _tree.Src("other-size", "aaaaa");
        _tree.Dst("other-size", "bbbb");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "same-size"), TestTree.BaseTime + 60);

        SyncPlan plan = Plan(o => o with { CompareMode = CompareMode.SizeOnly });
        Assert.Equal([">f.s....... other-size", ".f..t...... same-size"], Lines(plan));
        Assert.Equal(SyncAction.Metadata, Single(plan, "same-size").Action);
        Assert.Equal(SyncReason.MetadataChanged, Single(plan, "same-size").Reason);
    }

    [Fact]
    public void Checksum_compares_content_of_files_with_equal_size_and_time()
    {
        _tree.Src("differs", "aaaa");
        _tree.Dst("differs", "bbbb");
        _tree.Src("equal", "cccc");
        _tree.Dst("equal", "cccc");
        _tree.Src("equal-other-time", "dddd");
        _tree.Dst("equal-other-time", "dddd");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "equal-other-time"), TestTree.BaseTime + 60);

        SyncPlan plan = Plan(o => o with { CompareMode = CompareMode.Checksum });
        Assert.Equal([">fc........ differs", ".f..t...... equal-other-time"], Lines(plan));
        Assert.Equal(SyncReason.ChecksumChanged, Single(plan, "differs").Reason);
    }

    [Fact]
    public void The_quick_check_misses_same_size_same_time_changes()
    {
        _tree.Src("differs", "aaaa");
        _tree.Dst("differs", "bbbb");
        _tree.FreezeBoth();
        Assert.Empty(Lines(Plan()));
    }

    [Fact]
    public void IgnoreTimes_transfers_identical_files()
    {
        _tree.Src("f", "same");
        _tree.Dst("f", "same");
        _tree.FreezeBoth();

        SyncItem item = Single(Plan(o => o with { CompareMode = CompareMode.IgnoreTimes }), "f");
        Assert.Equal(SyncAction.Update, item.Action);
        Assert.Equal(SyncReason.IgnoreTimes, item.Reason);
        Assert.Equal(">f.........", item.Itemize);
    }

    [Fact]
    public void A_permission_change_alone_is_metadata()
    {
        _tree.Src("f", "same");
        _tree.Dst("f", "same");
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "f"), 0x1ED)); // 0755
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Destination, "f"), 0x1A4)); // 0644
        _tree.FreezeBoth();

        SyncPlan plan = Plan();
        SyncItem item = Single(plan, "f");
        Assert.Equal(SyncAction.Metadata, item.Action);
        Assert.Equal(".f...p.....", item.Itemize);
        Assert.Equal(AttributeChanges.Permissions, plan.Actions.Single(a => a.Item == item).Changes);
    }

    [Fact]
    public void Without_Preserve_Permissions_a_mode_change_is_ignored()
    {
        _tree.Src("f", "same");
        _tree.Dst("f", "same");
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "f"), 0x1ED));
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Destination, "f"), 0x1A4));
        _tree.FreezeBoth();

        Assert.Empty(Lines(Plan(o => o with { Preserve = PreserveOptions.Times | PreserveOptions.Links })));
    }

    [Fact]
    public void Without_Preserve_Times_a_time_change_still_transfers_but_shows_T()
    {
        _tree.Src("f", "same");
        _tree.Dst("f", "same");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "f"), TestTree.BaseTime + 60);

        SyncPlan plan = Plan(o => o with { Preserve = PreserveOptions.Permissions | PreserveOptions.Links });
        Assert.Equal([">f..T...... f"], Lines(plan));
    }

    [Fact]
    public void Without_Preserve_Links_symlinks_are_skipped_with_a_warning()
    {
        File.CreateSymbolicLink(Path.Join(_tree.Source, "link"), "nowhere");
        (SyncPlan plan, RecordingObserver observer) = Plan(_tree.Options() with { Preserve = PreserveOptions.Times });
        Assert.DoesNotContain(plan.Items, i => i.RelativePath == "link");
        Assert.Contains(observer.Warnings, w => w.Contains("link", StringComparison.Ordinal));
    }

    [Fact]
    public void A_directory_time_change_is_metadata_on_the_directory()
    {
        _tree.Src("d/f", "same");
        _tree.Dst("d/f", "same");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "d"), TestTree.BaseTime + 60);

        Assert.Equal([".d..t...... d"], Lines(Plan()));
    }

    [Fact]
    public void A_changed_symlink_target_is_replaced()
    {
        File.CreateSymbolicLink(Path.Join(_tree.Source, "l"), "new-target");
        Directory.CreateDirectory(_tree.Destination);
        File.CreateSymbolicLink(Path.Join(_tree.Destination, "l"), "old-target");
        _tree.FreezeBoth();

        SyncItem item = Single(Plan(), "l");
        Assert.Equal(SyncAction.Update, item.Action);
        Assert.Equal(SyncReason.TargetChanged, item.Reason);
        Assert.Equal("cLc........", item.Itemize);
        Assert.Equal("new-target", item.LinkTarget);
    }

    [Fact]
    public void Extraneous_items_are_deleted_only_with_Delete_children_first()
    {
        _tree.Src("keep", "k");
        _tree.Dst("keep", "k");
        _tree.Dst("gone/inner/f", "x");
        _tree.Dst("zz", "x");
        _tree.FreezeBoth();

        Assert.Empty(Lines(Plan()));

        SyncPlan plan = Plan(delete: true);
        // rsync's order: a directory's extraneous items in reverse name order, each directory's contents before it.
        Assert.Equal(["*deleting   zz", "*deleting   gone/inner/f", "*deleting   gone/inner", "*deleting   gone"], Lines(plan));
        Assert.All(plan.Items, i => Assert.Equal(SyncAction.Delete, i.Action));
        Assert.All(plan.Items, i => Assert.Equal(SyncReason.Extraneous, i.Reason));
        Assert.Equal(SyncItemType.Directory, Single(plan, "gone").ItemType);
        Assert.Equal(Path.Join(_tree.Destination, "zz"), Single(plan, "zz").DestinationPath);
    }

    [Fact]
    public void Excluded_destination_items_are_not_deleted()
    {
        _tree.Dst("protected.log", "x");
        _tree.Dst("junk", "x");
        _tree.FreezeBoth();
        SyncPlan plan = Plan(o => o with { Filter = SyncFilter.FromPatterns(null, ["*.log"]) }, delete: true);
        Assert.Equal(["*deleting   junk"], Lines(plan));
    }

    [Fact]
    public void Excluded_source_items_are_not_planned()
    {
        _tree.Src("a.log", "x");
        _tree.Src("build/out", "x");
        _tree.Src("main.c", "x");
        SyncPlan plan = Plan(o => o with { Filter = SyncFilter.FromPatterns(null, ["*.log", "build/"]) });
        Assert.Equal(["cd+++++++++ .", ">f+++++++++ main.c"], Lines(plan));
    }

    [Fact]
    public void Each_directory_lists_its_deletions_first_in_reverse_order_then_entries_in_ordinal_order_a_directory_before_its_contents()
    {
        _tree.Src("B/x", "x");
        _tree.Src("a", "a");
        _tree.Src("c/y", "y");
        _tree.Src("c/sub/z", "z");
        _tree.Dst("c/old", "o");
        _tree.Dst("b-extra", "e");
        _tree.Dst("zz-extra", "e");
        _tree.FreezeBoth();

        SyncPlan plan = Plan(delete: true);
        Assert.Equal(
        [
            "*deleting   zz-extra",
            "*deleting   b-extra",
            "cd+++++++++ B",
            ">f+++++++++ B/x",
            ">f+++++++++ a",
            "*deleting   c/old",
            "cd+++++++++ c/sub",
            ">f+++++++++ c/sub/z",
            ">f+++++++++ c/y",
        ], Lines(plan));
    }

    [Fact]
    public void A_file_replaced_by_a_directory_is_deleted_then_created()
    {
        _tree.Src("x/inner", "i");
        _tree.Dst("x", "was a file");
        _tree.FreezeBoth();

        SyncPlan plan = Plan();
        Assert.Equal(["*deleting   x", "cd+++++++++ x", ">f+++++++++ x/inner"], Lines(plan));
        Assert.Equal(SyncReason.TypeChanged, plan.Items.First().Reason);
        Assert.Equal(SyncReason.TypeChanged, plan.Items.ElementAt(1).Reason);
        Assert.Equal(SyncReason.New, plan.Items.ElementAt(2).Reason);
    }

    [Fact]
    public void A_non_empty_directory_is_not_replaced_by_a_file_without_Delete()
    {
        _tree.Src("x", "now a file");
        _tree.Dst("x/inner", "i");
        _tree.FreezeBoth();

        (SyncPlan plan, RecordingObserver observer) = Plan(_tree.Options());
        Assert.Empty(Lines(plan));
        Assert.Equal(ErrorIds.CannotReplaceNonEmptyDirectory, Assert.Single(observer.Errors).ErrorId);
    }

    [Fact]
    public void A_non_empty_directory_is_replaced_by_a_file_with_Delete()
    {
        _tree.Src("x", "now a file");
        _tree.Dst("x/inner", "i");
        _tree.FreezeBoth();

        SyncPlan plan = Plan(delete: true);
        Assert.Equal(["*deleting   x/inner", "*deleting   x", ">f+++++++++ x"], Lines(plan));
        Assert.All(plan.Items, i => Assert.Equal(SyncReason.TypeChanged, i.Reason));
    }

    [Fact]
    public void A_symlink_replaced_by_a_file_is_a_type_change()
    {
        _tree.Src("x", "file");
        Directory.CreateDirectory(_tree.Destination);
        File.CreateSymbolicLink(Path.Join(_tree.Destination, "x"), "somewhere");
        _tree.FreezeBoth();

        SyncPlan plan = Plan();
        Assert.Equal(["*deleting   x", ">f+++++++++ x"], Lines(plan));
        Assert.Equal(SyncItemType.SymbolicLink, plan.Items.First().ItemType);
    }

    [Fact]
    public void Leftover_temporary_files_are_always_removed()
    {
        _tree.Src("f", "x");
        _tree.Dst("f", "x");
        _tree.Dst(".~psr0123abcd~f", "partial");
        _tree.FreezeBoth();

        SyncItem item = Assert.Single(Plan().Items);
        Assert.Equal(SyncReason.TemporaryFile, item.Reason);
        Assert.Equal(".~psr0123abcd~f", item.RelativePath);
    }

    [Fact]
    public void A_dangling_link_with_CopyLinks_is_a_scan_error()
    {
        _tree.Src("ok", "x");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "dangling"), "does-not-exist");

        (SyncPlan plan, RecordingObserver observer) = Plan(_tree.Options() with { CopyLinks = true });
        SyncException error = Assert.Single(plan.ScanErrors);
        Assert.Equal(ErrorIds.SymbolicLinkNoReferent, error.ErrorId);
        Assert.Equal("dangling", error.Target);
        Assert.Contains(error, observer.Errors);
        Assert.DoesNotContain(plan.Items, i => i.RelativePath == "dangling");
        Assert.Contains(plan.Items, i => i.RelativePath == "ok");
    }

    [Fact]
    public void A_link_loop_with_CopyLinks_is_a_scan_error_not_a_hang()
    {
        _tree.Src("d/f", "x");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "d/up"), "..");

        SyncPlan plan = Plan(o => o with { CopyLinks = true });
        Assert.Contains(plan.ScanErrors, e => e.ErrorId == ErrorIds.ScanError);
    }

    [Fact]
    public void CopyLinks_plans_the_referent()
    {
        _tree.Src("target.txt", "content");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "link"), "target.txt");
        SyncItem item = Single(Plan(o => o with { CopyLinks = true }), "link");
        Assert.Equal(SyncItemType.File, item.ItemType);
        Assert.Equal(">f+++++++++", item.Itemize);
    }

    [Fact]
    public void A_missing_source_is_an_error_not_an_empty_tree()
    {
        SyncException ex = Assert.Throws<SyncException>(() =>
            LocalReplicator.Plan(new SyncOptions { Source = Path.Join(_tree.Root, "missing"), Destination = _tree.Destination }, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.SourceNotFound, ex.ErrorId);
    }

    [Fact]
    public void Planning_reports_scanning_progress()
    {
        _tree.Src("a", "x");
        (_, RecordingObserver observer) = Plan(_tree.Options());
        Assert.Contains(observer.Progress, p => p.Phase == SyncPhase.Scanning && p.ItemsScanned == 1);
    }

    // Differential check: the itemize lines rsync -a --delete -n -i prints for the same pair of trees.
    [Fact]
    public void Itemize_strings_agree_with_rsync()
    {
        Assert.True(TestTree.HasProgram("rsync"), "the differential test needs rsync on PATH");
        _tree.Src("new.txt", "n");
        _tree.Src("newdir/f", "f");
        _tree.Src("size", "longer");
        _tree.Dst("size", "short");
        _tree.Src("time", "same");
        _tree.Dst("time", "same");
        _tree.Src("mode", "same");
        _tree.Dst("mode", "same");
        _tree.Src("same", "same");
        _tree.Dst("same", "same");
        _tree.Src("dir/keep", "k");
        _tree.Dst("dir/keep", "k");
        _tree.Dst("dir/extra", "e");
        _tree.Dst("extra-dir/x", "x");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "link"), "new.txt");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "relink"), "a");
        File.CreateSymbolicLink(Path.Join(_tree.Destination, "relink"), "b");
        Assert.Equal(0, Posix.Chmod(Path.Join(_tree.Source, "mode"), 0x1C0));
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Source, "time"), TestTree.BaseTime + 5);
        TestTree.SetTime(Path.Join(_tree.Source, "size"), TestTree.BaseTime + 5);
        TestTree.SetTime(Path.Join(_tree.Source, "dir"), TestTree.BaseTime + 5);

        string[] expected = TestTree.Run("rsync", "-a", "-n", "-i", "--delete", _tree.Source + "/", _tree.Destination + "/")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.TrimEnd('/'))
            .Select(line => line.Replace(" -> ", "\u0000", StringComparison.Ordinal).Split('\u0000')[0])
            .Order(StringComparer.Ordinal)
            .ToArray();
        string[] actual = Lines(Plan(delete: true)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, actual);
    }
}
