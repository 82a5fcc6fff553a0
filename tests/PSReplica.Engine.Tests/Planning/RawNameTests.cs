using PSReplica.Engine.Native;

namespace PSReplica.Engine.Tests.Planning;

/// <summary>Issue 18, D3/D4: names that are not UTF-8 are replicated byte for byte (as rsync does), in files, directories,
/// symbolic links (names and targets) and hard links; such a name beside its U+FFFD look-alike is two items that
/// converge. The engine holds them as <see cref="NameCodec"/>'s escaped strings.</summary>
public sealed class RawNameTests : IDisposable
{
    private static readonly byte[] s_ff = [(byte)'a', 0xFF, (byte)'.', (byte)'t'];
    private static readonly byte[] s_lookAlike = [(byte)'a', 0xEF, 0xBF, 0xBD, (byte)'.', (byte)'t'];
    private static readonly byte[] s_directory = [(byte)'d', 0xC3, 0x28];
    private static readonly byte[] s_inner = [.. s_directory, (byte)'/', (byte)'f', 0x80, 0xED, 0xA0, 0x80];
    private static readonly byte[] s_link = [(byte)'l', 0xFE];
    private static readonly byte[] s_hardLink = [(byte)'h', 0xF8];

    private readonly TestTree _tree = new();

    public void Dispose()
    {
        RawNames.Remove(_tree.Root);
        _tree.Dispose();
    }

    private SyncSummary Run(RecordingObserver observer) =>
        LocalReplicator.Run(_tree.Options() with { Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks }, observer, CancellationToken.None);

    [Fact]
    public void Names_that_are_not_utf8_are_replicated_exactly_and_converge()
    {
        RawNames.WriteFile(_tree.Source, s_ff, "ff");
        RawNames.MakeDirectory(_tree.Source, s_directory);
        RawNames.WriteFile(_tree.Source, s_inner, "inner");
        RawNames.MakeLink(_tree.Source, s_link, s_ff);
        RawNames.MakeHardLink(_tree.Source, s_ff, s_hardLink);

        var observer = new RecordingObserver();
        SyncSummary first = Run(observer);

        Assert.Empty(observer.Errors);
        Assert.Equal(0, first.Errors);
        Assert.Equal("ff", RawNames.ReadFile(_tree.Destination, s_ff));
        Assert.Equal("inner", RawNames.ReadFile(_tree.Destination, s_inner));
        Assert.Equal(s_ff, RawNames.ReadLink(_tree.Destination, s_link));
        Assert.Equal(TestTree.Stat(Path.Join(_tree.Destination, NameCodec.Decode(s_ff))).Inode,
            TestTree.Stat(Path.Join(_tree.Destination, NameCodec.Decode(s_hardLink))).Inode);
        Assert.False(RawNames.Exists(_tree.Destination, s_lookAlike));
        Assert.Equal(TestTree.Listing(_tree.Source).Count, TestTree.Listing(_tree.Destination).Count);

        var second = new RecordingObserver();
        SyncPlan again = LocalReplicator.Plan(_tree.Options() with { Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks }, second, CancellationToken.None);
        Assert.Empty(again.Items);
        Assert.Empty(second.Errors);

        // -Checksum reads both sides' files by their own names.
        var checksum = new RecordingObserver();
        SyncPlan compared = LocalReplicator.Plan(_tree.Options() with { CompareMode = CompareMode.Checksum }, checksum, CancellationToken.None);
        Assert.Empty(checksum.Errors);
        Assert.Empty(compared.Items);
    }

    [Fact]
    public void A_name_that_is_not_utf8_beside_its_look_alike_is_two_items_that_converge()
    {
        RawNames.WriteFile(_tree.Source, s_ff, "raw");
        RawNames.WriteFile(_tree.Source, s_lookAlike, "utf8");

        var observer = new RecordingObserver();
        _ = Run(observer);

        Assert.Empty(observer.Errors);
        Assert.Equal(2, observer.Items.Count(i => i.Action == SyncAction.Create && i.ItemType == SyncItemType.File));
        Assert.Equal("raw", RawNames.ReadFile(_tree.Destination, s_ff));
        Assert.Equal("utf8", RawNames.ReadFile(_tree.Destination, s_lookAlike));

        var second = new RecordingObserver();
        _ = Run(second);
        Assert.Empty(second.Items);
        Assert.Empty(second.Errors);
    }

    [Fact]
    public void A_files_from_list_names_such_an_item_by_its_bytes_and_a_wildcard_takes_one_such_byte()
    {
        RawNames.WriteFile(_tree.Source, s_ff, "raw");
        RawNames.WriteFile(_tree.Source, s_lookAlike, "utf8");
        string list = Path.Join(_tree.Root, "list");
        File.WriteAllBytes(list, [.. s_ff, (byte)'\n']);

        var listed = new RecordingObserver();
        _ = LocalReplicator.Run(OptionNormalizer.ApplyFilesFrom(_tree.Options(), list, new List<string>()), listed, CancellationToken.None);
        Assert.Empty(listed.Errors);
        Assert.Equal("raw", RawNames.ReadFile(_tree.Destination, s_ff));
        Assert.False(RawNames.Exists(_tree.Destination, s_lookAlike));

        // 'a?.t' is four bytes: the raw name's, not its look-alike's (six), as rsync's wildmatch sees them.
        var filtered = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(_tree.Options() with { Filter = new SyncFilterBuilder().AddExclude("a?.t").Build() }, filtered, CancellationToken.None);
        Assert.Empty(filtered.Errors);
        Assert.Contains(plan.Items, i => i.RelativePath == NameCodec.Decode(s_lookAlike));
        Assert.DoesNotContain(plan.Items, i => i.RelativePath == NameCodec.Decode(s_ff) && i.Action != SyncAction.Delete);
    }
}
