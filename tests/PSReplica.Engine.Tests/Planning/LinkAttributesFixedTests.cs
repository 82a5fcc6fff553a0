namespace PSReplica.Engine.Tests.Planning;

/// <summary>A destination that cannot set a link's own time or owner (SFTP) compares links by target only; otherwise
/// every run would plan the same link metadata again.</summary>
public sealed class LinkAttributesFixedTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Link_times_are_ignored_only_when_the_destination_cannot_set_them()
    {
        _tree.Src("a.txt", "a");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "same"), "a.txt");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "moved"), "a.txt");
        _tree.Dst("a.txt", "a");
        File.CreateSymbolicLink(Path.Join(_tree.Destination, "same"), "a.txt");
        File.CreateSymbolicLink(Path.Join(_tree.Destination, "moved"), "b.txt");
        _tree.FreezeBoth();
        TestTree.SetTime(Path.Join(_tree.Destination, "same"), TestTree.BaseTime + 60);
        TestTree.SetTime(Path.Join(_tree.Destination, "moved"), TestTree.BaseTime + 60);

        SyncPlan usual = LocalReplicator.Plan(_tree.Options(), new RecordingObserver(), CancellationToken.None);
        Assert.Equal(["moved", "same"], usual.Items.Select(i => i.RelativePath).Order(StringComparer.Ordinal));

        SyncPlan fixedLinks = LocalReplicator.Plan(_tree.Options() with { LinkAttributesFixed = true }, new RecordingObserver(), CancellationToken.None);
        SyncItem moved = Assert.Single(fixedLinks.Items);
        Assert.Equal("moved", moved.RelativePath);
        Assert.Equal(SyncReason.TargetChanged, moved.Reason);
        Assert.Equal('.', moved.Itemize[4]);
    }
}
