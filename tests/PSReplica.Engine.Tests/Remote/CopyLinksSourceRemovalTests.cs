namespace PSReplica.Engine.Tests.Remote;

/// <summary>-CopyLinks with -RemoveSourceFiles (rsync -L --remove-source-files), locally, on a push and on a pull: the
/// files copied through a link to a directory outside the source are not the source's own, and are never removed
/// through the link (rsync refuses them too: "failed to secure-open-parent"); they were deleted, outside the source tree.
/// The source's own files go as before.</summary>
public sealed class CopyLinksSourceRemovalTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    public static TheoryData<string> Wirings => ["Local", "Push", "Pull"];

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task A_file_reached_through_a_linked_directory_is_copied_and_not_removed(string wiring)
    {
        string outside = Path.Join(_tree.Root, "outside");
        TestTree.Write(outside, "dir/x", "outside, in a directory\n");
        TestTree.Write(outside, "dir/deeper/y", "outside, deeper\n");
        _tree.Src("own.txt", "the source's own\n");
        _tree.Src("sub/own2.txt", "the source's own too\n");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "linkdir"), Path.Join(outside, "dir"));

        RecordingObserver observer = await Loopback.RunOnWiringAsync(wiring, _tree.Options() with { CopyLinks = true, RemoveSourceFiles = true });

        Assert.Equal("outside, in a directory\n", File.ReadAllText(Path.Join(_tree.Destination, "linkdir/x")));
        Assert.Equal("outside, deeper\n", File.ReadAllText(Path.Join(_tree.Destination, "linkdir/deeper/y")));
        // Outside the source: untouched.
        Assert.Equal("outside, in a directory\n", File.ReadAllText(Path.Join(outside, "dir/x")));
        Assert.Equal("outside, deeper\n", File.ReadAllText(Path.Join(outside, "dir/deeper/y")));
        // The source's own files were copied and removed.
        Assert.False(File.Exists(Path.Join(_tree.Source, "own.txt")));
        Assert.False(File.Exists(Path.Join(_tree.Source, "sub/own2.txt")));
        Assert.Equal("the source's own too\n", File.ReadAllText(Path.Join(_tree.Destination, "sub/own2.txt")));
        Assert.Contains(observer.Warnings.Concat(observer.Errors.Select(e => e.Message)), m => m.Contains("linkdir/x", StringComparison.Ordinal));
    }
}
