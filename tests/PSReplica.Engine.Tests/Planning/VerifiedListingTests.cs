using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Watching;

namespace PSReplica.Engine.Tests.Planning;

/// <summary>The planner lists every directory below a root only while it is still the directory its parent's listing named
/// (issue 7's invariant, issue 18 item 1): a directory swapped for a link to somewhere else between the two listings is
/// never listed in its place, on either side, whether a walker listed it ahead or the planner lists it itself. Each case
/// swaps the directory right after its parent was listed, then plans; listed through the link, the plan would copy what
/// is outside the source or delete what is outside the destination.</summary>
public sealed class VerifiedListingTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    /// <summary>How the planner reads a side: the local lister itself (no walkers: -Watch's batches, tests), or the lister
    /// that reads ahead told not to enter anything (as a filter rule keeps its walkers out), so the planner lists there.</summary>
    public static TheoryData<bool> Listers => [false, true];

    [Theory]
    [MemberData(nameof(Listers))]
    public void A_source_directory_swapped_for_a_link_is_not_listed_through_it(bool ahead)
    {
        _tree.Src("a/mine", "1");
        TestTree.Write(_tree.Root, "outside/theirs", "secret");
        var swapping = new SwappingLister(string.Empty, () => _tree.SwapForLinkToOutside(_tree.Source, "a"));

        (string[] items, SyncException[] errors) = Plan(_tree.Options(), swapping, null, ahead);

        Assert.DoesNotContain(items, item => item.Contains("theirs", StringComparison.Ordinal));
        SyncException error = Assert.Single(errors);
        Assert.Equal(ErrorIds.ScanError, error.ErrorId);
        Assert.Contains("replaced", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Listers))]
    public void A_destination_directory_swapped_for_a_link_has_nothing_deleted_through_it(bool ahead)
    {
        _tree.Src("a/mine", "1");
        _tree.Dst("a/mine", "1");
        _tree.Dst("a/old", "2");
        TestTree.Write(_tree.Root, "outside/victim", "keep");
        var swapping = new SwappingLister(string.Empty, () => _tree.SwapForLinkToOutside(_tree.Destination, "a"));

        (string[] items, SyncException[] errors) = Plan(_tree.Options(delete: true), null, swapping, ahead);

        Assert.DoesNotContain(items, item => item.StartsWith("a/", StringComparison.Ordinal));
        Assert.Equal(ErrorIds.ScanError, Assert.Single(errors).ErrorId);
    }

    [Theory]
    [MemberData(nameof(Listers))]
    public void A_destination_directory_to_be_replaced_by_a_file_is_not_emptied_through_a_link(bool ahead)
    {
        // A file in the source where the destination has a directory: with -Delete the directory's contents are planned
        // away first, from its own listing.
        _tree.Src("a", "file now");
        _tree.Dst("a/old", "2");
        TestTree.Write(_tree.Root, "outside/victim", "keep");
        var swapping = new SwappingLister(string.Empty, () => _tree.SwapForLinkToOutside(_tree.Destination, "a"));

        (string[] items, SyncException[] errors) = Plan(_tree.Options(delete: true), null, swapping, ahead);

        Assert.DoesNotContain(items, item => item.Contains("victim", StringComparison.Ordinal));
        Assert.Equal(ErrorIds.ScanError, Assert.Single(errors).ErrorId);
    }

    [Fact]
    public void A_watch_batch_states_its_names_only_in_the_directory_its_parent_named()
    {
        // -Watch saw a/mine change: the batch states that name in a, not a's listing; a was swapped for a link since.
        _tree.Src("a/mine", "new", mtimeSeconds: TestTree.BaseTime + 10);
        _tree.Dst("a/mine", "old", mtimeSeconds: TestTree.BaseTime);
        TestTree.Write(_tree.Root, "outside/mine", "secret", mtimeSeconds: TestTree.BaseTime + 20);
        var swapping = new SwappingLister(string.Empty, () => _tree.SwapForLinkToOutside(_tree.Source, "a"));
        SyncOptions options = _tree.Options() with { Scope = PlanScope.From([new WatchChange(WatchChangeKind.Item, "a/mine")]) };

        (string[] items, SyncException[] errors) = Plan(options, swapping, null, ahead: false);

        Assert.Empty(items);
        SyncException error = Assert.Single(errors);
        Assert.Equal(ErrorIds.ScanError, error.ErrorId);
        Assert.Contains("replaced", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Listers))]
    public void CopyLinks_still_lists_a_directory_reached_through_a_link(bool ahead)
    {
        // rsync -L: the link's referent is copied as a directory, wherever it is; its listing follows the link.
        TestTree.Write(_tree.Root, "elsewhere/x", "1");
        _tree.Src("a/y", "2");
        Directory.CreateSymbolicLink(Path.Join(_tree.Source, "a", "l"), Path.Join(_tree.Root, "elsewhere"));

        (string[] items, SyncException[] errors) = Plan(_tree.Options() with { CopyLinks = true }, null, null, ahead);

        Assert.Empty(errors);
        Assert.Contains("a/l/x", items);
    }

    [Theory]
    [InlineData("d")]
    [InlineData("only")]
    public void With_several_sources_a_swapped_directory_is_not_listed_through_the_link(string swapped)
    {
        // d is in both sources (merged); only is in the first alone.
        string second = Path.Join(_tree.Root, "second");
        _tree.Src("d/mine", "1");
        _tree.Src("only/mine", "1");
        TestTree.Write(second, "d/theirs", "2");
        TestTree.Write(_tree.Root, "outside/secret", "secret");
        var swapping = new SwappingLister(string.Empty, () => _tree.SwapForLinkToOutside(_tree.Source, swapped));
        SyncOptions options = _tree.Options() with { Source = _tree.Source + "/", AdditionalSources = [second + "/"] };

        (string[] items, SyncException[] errors) = Plan(options, swapping, null, ahead: false);

        Assert.DoesNotContain(items, item => item.Contains("secret", StringComparison.Ordinal));
        Assert.Equal(ErrorIds.ScanError, Assert.Single(errors).ErrorId);
    }

    [Fact]
    public void A_directory_left_alone_lists_as_before()
    {
        // The control: the same trees unswapped plan the directory's contents (the listings above failed for the swap).
        _tree.Src("a/mine", "1");
        _tree.Dst("a/old", "2");
        var quiet = new SwappingLister(string.Empty, () => { });

        (string[] items, SyncException[] errors) = Plan(_tree.Options(delete: true), quiet, quiet, ahead: false);

        Assert.Empty(errors);
        Assert.Contains("a/mine", items);
        Assert.Contains("a/old", items);
    }

    private static (string[] Items, SyncException[] Errors) Plan(SyncOptions options, ITreeLister? source, ITreeLister? destination, bool ahead)
    {
        var owned = new List<PrefetchingTreeLister>();
        ITreeLister Wrap(ITreeLister? inner)
        {
            inner ??= LocalTreeLister.Instance;
            if (!ahead)
            {
                return inner;
            }

            var lister = new PrefetchingTreeLister(inner, static _ => false, false, CancellationToken.None, walkers: 0);
            owned.Add(lister);
            return lister;
        }

        try
        {
            var observer = new RecordingObserver();
            SyncPlan plan = SyncPlanner.Build(options, SourceSet.Resolve(options), options.Destination,
                LocalReplicator.ResolveDestination(options.Destination), observer, CancellationToken.None, Wrap(source), Wrap(destination));
            return (plan.Items.Select(i => i.RelativePath).ToArray(), [.. plan.ScanErrors]);
        }
        finally
        {
            owned.ForEach(lister => lister.Dispose());
        }
    }

    /// <summary>The local lister, which runs <c>swap</c> once, right after it listed the directory <c>after</c>.</summary>
    private sealed class SwappingLister(string after, Action swap) : ITreeLister
    {
        private bool _swapped;

        public List<FileEntry> List(string fullPath, string relative) => Then(relative, LocalTreeLister.Instance.List(fullPath, relative));

        public List<FileEntry> ListVerified(FileEntry directory, string relative) =>
            Then(relative, LocalTreeLister.Instance.ListVerified(directory, relative));

        public List<FileEntry> ListNames(string fullPath, string relative, IReadOnlySet<string> names, FileEntry? expected) =>
            Then(relative, LocalTreeLister.Instance.ListNames(fullPath, relative, names, expected));

        private List<FileEntry> Then(string relative, List<FileEntry> entries)
        {
            if (relative == after && !_swapped)
            {
                _swapped = true;
                swap();
            }

            return entries;
        }
    }
}
