namespace PSReplica.Engine.Tests.Receiving;

/// <summary><see cref="BasisTreeRequests.LinkWithin"/>, -Preserve HardLinks' link of a later name to the group's first.</summary>
public sealed class LinkWithinTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void A_name_that_already_is_the_file_is_left_as_it_is_without_a_temp_name()
    {
        // rename(2) between two names of one inode succeeds and does nothing: the link's temp name stayed beside it.
        _tree.Dst("a", "content");
        Assert.Equal(0, Posix.Link(Path.Join(_tree.Destination, "a"), Path.Join(_tree.Destination, "b")));
        using var tree = new SafeTree(_tree.Destination);

        BasisTreeRequests.LinkWithin(tree, "b", "a", null);

        Assert.Equal(["a", "b"], Directory.GetFileSystemEntries(_tree.Destination).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(TestTree.Stat(Path.Join(_tree.Destination, "a")).Inode, TestTree.Stat(Path.Join(_tree.Destination, "b")).Inode);
    }

    [Fact]
    public void A_name_that_is_another_file_becomes_a_link_to_the_first()
    {
        _tree.Dst("a", "first");
        _tree.Dst("b", "other");
        using var tree = new SafeTree(_tree.Destination);

        BasisTreeRequests.LinkWithin(tree, "b", "a", null);

        Assert.Equal(["a", "b"], Directory.GetFileSystemEntries(_tree.Destination).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("first", File.ReadAllText(Path.Join(_tree.Destination, "b")));
    }
}
