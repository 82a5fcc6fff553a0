namespace PSReplica.Engine.Tests.Protocol;

public sealed class PeerNamesTests
{
    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a/..")]
    [InlineData("..")]
    [InlineData("/etc/passwd")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("./a")]
    [InlineData("a/./b")]
    [InlineData("a\0b")]
    public void Unsafe_paths_are_refused(string path)
    {
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => PeerNames.CheckPath(path, allowRoot: true)).ErrorId);
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => PeerNames.CheckPath(path, allowRoot: true, windows: true)).ErrorId);
    }

    /// <summary>What Windows reads as a path of its own (a drive, a share, a separator, a stream) is refused where this side
    /// runs on Windows, and is a plain name elsewhere: rsync replicates '\\abc' and 'C:foo' between Linux hosts, and a run
    /// that refused them lost the whole transfer (found by the differential campaign against rsync over SSH).</summary>
    [Theory]
    [InlineData("\\\\server\\share")]
    [InlineData("\\abc")]
    [InlineData("\\#101abc")]
    [InlineData("C:/Windows")]
    [InlineData("c:x")]
    [InlineData("sub/b:x")]
    [InlineData("a/\\\\unc")]
    [InlineData("a/..\\..\\x")]
    public void Windows_path_forms_are_refused_only_on_Windows(string path)
    {
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => PeerNames.CheckPath(path, allowRoot: true, windows: true)).ErrorId);
        Assert.Equal(path, PeerNames.CheckPath(path, allowRoot: false, windows: false));
        string name = path[(path.LastIndexOf('/') + 1)..];
        Assert.Equal(name, PeerNames.CheckName(name, windows: false));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a/b/c")]
    [InlineData("..a/b..")]
    [InlineData(".hidden/x")]
    [InlineData("sp ace/ü/日本")]
    public void Safe_paths_pass(string path)
    {
        Assert.Equal(path, PeerNames.CheckPath(path, allowRoot: false, windows: false));
        Assert.Equal(path, PeerNames.CheckPath(path, allowRoot: false, windows: true));
    }

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
