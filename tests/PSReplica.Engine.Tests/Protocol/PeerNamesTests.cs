namespace PSReplica.Engine.Tests.Protocol;

public sealed class PeerNamesTests
{
    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a/..")]
    [InlineData("..")]
    [InlineData("/etc/passwd")]
    [InlineData("\\\\server\\share")]
    [InlineData("C:/Windows")]
    [InlineData("c:x")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("./a")]
    [InlineData("a/./b")]
    [InlineData("a\0b")]
    [InlineData("a/\\\\unc")]
    public void Unsafe_paths_are_refused(string path)
    {
        var error = Assert.Throws<SyncException>(() => PeerNames.CheckPath(path, allowRoot: true));
        Assert.Equal(ErrorIds.UnsafePath, error.ErrorId);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a/b/c")]
    [InlineData("..a/b..")]
    [InlineData(".hidden/x")]
    [InlineData("sp ace/ü/日本")]
    [InlineData("ab:c")]
    public void Safe_paths_pass(string path) => Assert.Equal(path, PeerNames.CheckPath(path, allowRoot: false));

    [Fact]
    public void The_root_passes_only_where_it_is_allowed()
    {
        Assert.Equal(string.Empty, PeerNames.CheckPath(string.Empty, allowRoot: true));
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => PeerNames.CheckPath(string.Empty, allowRoot: false)).ErrorId);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("")]
    public void A_single_name_has_no_slash_and_no_dots(string name) =>
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => PeerNames.CheckName(name)).ErrorId);

    [Fact]
    public void Overlong_names_are_refused()
    {
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => PeerNames.CheckName(new string('x', 256))).ErrorId);
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => PeerNames.CheckPath(string.Join('/', new string('x', 200), new string('y', 4000)), false)).ErrorId);
    }
}
