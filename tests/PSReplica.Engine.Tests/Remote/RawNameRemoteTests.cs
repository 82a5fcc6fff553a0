namespace PSReplica.Engine.Tests.Remote;

/// <summary>Issue 18, D3/D4 through the agent: names that are not UTF-8 travel as bytes, push and pull, and are replicated
/// exactly (files, directories, link names and targets, hard links, deletion of an extraneous one); such a name beside its
/// U+FFFD look-alike converges.</summary>
public sealed class RawNameRemoteTests
{
    private static readonly byte[] s_ff = [(byte)'a', 0xFF];
    private static readonly byte[] s_lookAlike = [(byte)'a', 0xEF, 0xBF, 0xBD];
    private static readonly byte[] s_directory = [(byte)'d', 0xC3, 0x28];
    private static readonly byte[] s_inner = [.. s_directory, (byte)'/', (byte)'f', 0x80];
    private static readonly byte[] s_link = [(byte)'l', 0xFE];
    private static readonly byte[] s_hardLink = [(byte)'h', 0xF8];
    private static readonly byte[] s_extraneous = [(byte)'x', 0x81];

    [Theory]
    [InlineData(RemoteSide.Destination)]
    [InlineData(RemoteSide.Source)]
    public async Task Names_that_are_not_utf8_are_replicated_exactly_and_converge(RemoteSide side)
    {
        using var tree = new TestTree();
        using var cleanup = new RawTreeCleanup(tree.Root);
        RawNames.WriteFile(tree.Source, s_ff, "raw");
        RawNames.WriteFile(tree.Source, s_lookAlike, "utf8");
        RawNames.MakeDirectory(tree.Source, s_directory);
        RawNames.WriteFile(tree.Source, s_inner, "inner");
        RawNames.MakeLink(tree.Source, s_link, s_ff);
        RawNames.MakeHardLink(tree.Source, s_ff, s_hardLink);
        Directory.CreateDirectory(tree.Destination);
        RawNames.WriteFile(tree.Destination, s_extraneous, "gone");
        SyncOptions options = tree.Options(delete: true) with { Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks };

        (SyncSummary first, RecordingObserver observer, _) = await Loopback.RunAsync(side, options);

        Assert.Empty(observer.Errors);
        Assert.Equal(0, first.Errors);
        Assert.Equal("raw", RawNames.ReadFile(tree.Destination, s_ff));
        Assert.Equal("utf8", RawNames.ReadFile(tree.Destination, s_lookAlike));
        Assert.Equal("inner", RawNames.ReadFile(tree.Destination, s_inner));
        Assert.Equal(s_ff, RawNames.ReadLink(tree.Destination, s_link));
        Assert.Equal("raw", RawNames.ReadFile(tree.Destination, s_hardLink));
        Assert.Equal(TestTree.Stat(Path.Join(tree.Destination, NameCodec.Decode(s_ff))).Inode,
            TestTree.Stat(Path.Join(tree.Destination, NameCodec.Decode(s_hardLink))).Inode);
        Assert.False(RawNames.Exists(tree.Destination, s_extraneous));

        (_, RecordingObserver second, _) = await Loopback.RunAsync(side, options);
        Assert.Empty(second.Errors);
        Assert.Empty(second.Items);
    }
}
