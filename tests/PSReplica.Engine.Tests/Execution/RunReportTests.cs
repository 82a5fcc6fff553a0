using System.Text.RegularExpressions;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>Issue 14: -Verbose says what a user needs to follow a run (roots, filter, scan counts and times, the plan's
/// counts, why each item was skipped, the totals) and -Debug says more; when neither is wanted, the engine sends (and
/// builds) no message at all.</summary>
public sealed class RunReportTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void A_local_run_reports_its_roots_filter_scan_plan_and_totals_in_that_order()
    {
        _tree.Src("a.txt", "a");
        _tree.Src("sub/b.txt", "bb");
        _tree.Src("skip.bak", "s");
        _tree.Dst("gone.txt", "g");
        TestTree.Freeze(_tree.Source);
        TestTree.Freeze(_tree.Destination);
        var observer = new RecordingObserver { WantsVerbose = true };

        LocalReplicator.Run(_tree.Options(delete: true) with { Filter = SyncFilter.Parse("- *.bak") }, observer, CancellationToken.None);

        Assert.Collection(observer.Verbose,
            line => Assert.Equal($"Source: {_tree.Source}", line),
            line => Assert.Equal($"Destination: {_tree.Destination}", line),
            line => Assert.StartsWith("File system: the Linux backend", line, StringComparison.Ordinal),
            line => Assert.Equal("Filter: 1 rule(s)", line),
            line => Assert.Matches($@"^Destination file system at '{System.Text.RegularExpressions.Regex.Escape(_tree.Destination)}': \S+ \((known type|measured)\): times kept to ", line),
            line => Assert.Equal("Skipping 'skip.bak': excluded by the filter rule '- *.bak'", line),
            line => Assert.Matches(@"^Scanned the source: 4 item\(s\) in 2 directories, \d+\.\d\d s listing$", line),
            line => Assert.Matches(@"^Scanned the destination: 1 item\(s\) in 1 directory, \d+\.\d\d s listing$", line),
            line => Assert.Matches(@"^Planned in \d+\.\d\d s: 3 to create, 1 to delete; 3 bytes of 3 bytes to transfer$", line),
            line => Assert.Matches(@"^Carried out the plan in \d+\.\d\d s: 3 created, 1 deleted, 0 skipped, 0 error\(s\); 3 bytes sent, 0 bytes reused from the destination$", line));
        Assert.Empty(observer.Debug);
    }

    [Fact]
    public void A_new_destination_and_a_dry_run_say_so()
    {
        _tree.Src("a.txt", "a");
        var observer = new RecordingObserver { WantsVerbose = true };

        LocalReplicator.Run(_tree.Options(), observer, CancellationToken.None, dryRun: true);

        Assert.Contains($"Destination: {_tree.Destination} (does not exist yet: the run creates it)", observer.Verbose);
        Assert.Contains("Filter: no rules (every item is transferred)", observer.Verbose);
        Assert.Contains("Scanned the destination: nothing to list", observer.Verbose);
        Assert.Matches(@"^Went through the plan as a dry run \(nothing was changed\) in \d+\.\d\d s: 2 to create, 0 skipped, 0 error\(s\)$", observer.Verbose[^1]);
        Assert.False(Directory.Exists(_tree.Destination));
    }

    [Theory]
    [InlineData("filter", "Skipping 'x.bak': excluded by the filter rule '- *.bak'")]
    [InlineData("protected", "Not deleting 'keep.bak': protected by the filter rule '- *.bak'")]
    [InlineData("protected-inside", "Not deleting 'old/keep.bak': protected by the filter rule '- *.bak'")]
    [InlineData("min-size", "Skipping 'small.txt': 1 byte, smaller than -MinSize (2 bytes)")]
    [InlineData("max-size", "Skipping 'large.txt': 2.0 KiB, larger than -MaxSize (1.0 KiB)")]
    [InlineData("existing-only", "Skipping 'new.txt': not in the destination (-ExistingOnly)")]
    [InlineData("ignore-existing", "Skipping 'f.txt': it exists in the destination (-IgnoreExisting)")]
    [InlineData("update", "Skipping 'f.txt': the destination's copy is newer (-Update)")]
    [InlineData("max-delete", "Not deleting 'extra.txt': the -MaxDelete limit of 0 is reached")]
    [InlineData("scan-error", "Not deleting 'extra.txt': the scan met I/O errors, so nothing extraneous is deleted in this run")]
    [InlineData("declined", "Skipping 'f.txt': declined (Create File)")]
    [InlineData("declined-directory", "Skipping 'd/inner.txt': a directory above it was declined or could not be made")]
    public void Each_skipped_item_says_why_and_nothing_is_said_unasked(string reason, string expected)
    {
        (SyncOptions options, Func<SyncItem, bool>? approve) = Skipping(reason);
        var asked = new RecordingObserver { WantsVerbose = true, Approve = approve };
        var unasked = new RecordingObserver { Approve = approve };

        // The dry run first (it changes nothing), then the same run for real, unasked.
        LocalReplicator.Run(options, asked, CancellationToken.None, dryRun: reason is not ("declined" or "declined-directory"));
        LocalReplicator.Run(options, unasked, CancellationToken.None);

        Assert.Contains(expected, asked.Verbose);
        Assert.Empty(asked.Debug);
        Assert.Empty(unasked.Verbose);
        Assert.Empty(unasked.Debug);
    }

    [Fact]
    public void Debug_adds_each_items_decision_and_the_workers_but_not_the_verbose_account()
    {
        _tree.Src("new.txt", "n");
        _tree.Src("same.txt", "s", TestTree.BaseTime);
        _tree.Dst("same.txt", "s", TestTree.BaseTime);
        var observer = new RecordingObserver { WantsDebug = true };

        LocalReplicator.Run(_tree.Options() with { Filter = SyncFilter.Parse("- *.bak") }, observer, CancellationToken.None);

        Assert.Contains("Filter rule 1: - *.bak", observer.Debug);
        Assert.Contains("'new.txt': >f+++++++++ Create File (New)", observer.Debug);
        Assert.Contains("'same.txt': up to date", observer.Debug);
        // A local run takes its actions while they are planned.
        Assert.Contains(observer.Debug, line => Regex.IsMatch(line, @"^Running the actions as they are planned with up to \d+ copy worker\(s\)$"));
        Assert.Empty(observer.Verbose);
    }

    /// <summary>A tree and options under which one item is skipped for <paramref name="reason"/>.</summary>
    private (SyncOptions Options, Func<SyncItem, bool>? Approve) Skipping(string reason)
    {
        SyncOptions options = _tree.Options();
        switch (reason)
        {
            case "filter":
                _tree.Src("x.bak", "x");
                return (options with { Filter = SyncFilter.Parse("- *.bak") }, null);

            case "protected":
                _tree.Src("a.txt", "a");
                _tree.Dst("keep.bak", "k");
                return (_tree.Options(delete: true) with { Filter = SyncFilter.Parse("- *.bak") }, null);

            case "protected-inside":
                // A directory that is deleted keeps what the filter protects (and is kept itself, with a warning).
                _tree.Src("a.txt", "a");
                _tree.Dst("old/keep.bak", "k");
                return (_tree.Options(delete: true) with { Filter = SyncFilter.Parse("- *.bak") }, null);

            case "min-size":
                _tree.Src("small.txt", "s");
                return (options with { MinSize = 2 }, null);

            case "max-size":
                _tree.SrcRandom("large.txt", 2048, seed: 1);
                return (options with { MaxSize = 1024 }, null);

            case "existing-only":
                _tree.Src("new.txt", "n");
                Directory.CreateDirectory(_tree.Destination);
                return (options with { ExistingOnly = true }, null);

            case "ignore-existing":
                _tree.Src("f.txt", "new");
                _tree.Dst("f.txt", "old");
                return (options with { IgnoreExisting = true }, null);

            case "update":
                _tree.Src("f.txt", "older", TestTree.BaseTime);
                _tree.Dst("f.txt", "newer", TestTree.BaseTime + 60);
                return (options with { Update = true }, null);

            case "max-delete":
                _tree.Src("a.txt", "a");
                _tree.Dst("extra.txt", "x");
                return (_tree.Options(delete: true) with { MaxDelete = 0 }, null);

            case "scan-error":
                // As root nothing is unlistable; a dangling link under -CopyLinks is an I/O error as in rsync -L.
                _tree.Src("a.txt", "a");
                File.CreateSymbolicLink(Path.Join(_tree.Source, "dangling"), "nowhere");
                _tree.Dst("extra.txt", "x");
                return (_tree.Options(delete: true) with { CopyLinks = true }, null);

            case "declined":
                _tree.Src("f.txt", "f");
                return (options, item => item.RelativePath != "f.txt");

            case "declined-directory":
                _tree.Src("d/inner.txt", "i");
                return (options, item => item.RelativePath != "d");

            default:
                throw new ArgumentOutOfRangeException(nameof(reason), reason, null);
        }
    }
}
