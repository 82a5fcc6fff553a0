using System;

namespace PSReplica.Ssh.Tests;

public sealed class RemotePathTests
{
    [Theory]
    [InlineData("host:dir/file", null, "host", null, "dir/file")]
    [InlineData("me@host:/srv/data", "me", "host", null, "/srv/data")]
    [InlineData("host:", null, "host", null, "")]
    [InlineData("me@host:", "me", "host", null, "")]
    [InlineData("[::1]:/tmp/x", null, "::1", null, "/tmp/x")]
    [InlineData("me@[fe80::1%eth0]:rel", "me", "fe80::1%eth0", null, "rel")]
    [InlineData("host:a:b", null, "host", null, "a:b")]
    [InlineData("a.b-c_d:x/y:z", null, "a.b-c_d", null, "x/y:z")]
    [InlineData("first.last@corp@host:p", "first.last@corp", "host", null, "p")]
    [InlineData("ssh://host/srv/data", null, "host", null, "/srv/data")]
    [InlineData("ssh://me@host:2222/srv/data", "me", "host", 2222, "/srv/data")]
    [InlineData("ssh://me@host", "me", "host", null, "")]
    [InlineData("ssh://host/", null, "host", null, "/")]
    [InlineData("ssh://host/~/backup", null, "host", null, "backup")]
    [InlineData("ssh://[::1]:2200/x", null, "::1", 2200, "/x")]
    [InlineData("ssh://[::1]/x", null, "::1", null, "/x")]
    [InlineData("ssh://a%40b@host/My%20Files/%C3%A9t%C3%A9", "a@b", "host", null, "/My Files/été")]
    [InlineData("SSH://host/x", null, "host", null, "/x")]
    public void Parses_remote_forms(string text, string? user, string host, int? port, string path)
    {
        Assert.True(RemotePath.TryParse(text, out RemotePath? remote));
        Assert.Equal(user, remote.Endpoint.User);
        Assert.Equal(host, remote.Endpoint.Host);
        Assert.Equal(port, remote.Endpoint.Port);
        Assert.Equal(path, remote.Path);
        Assert.True(RemotePath.IsRemote(text));
    }

    [Theory]
    [InlineData("/srv/data")]
    [InlineData("relative/dir")]
    [InlineData("./a:b")]
    [InlineData("/x/host:path")]
    [InlineData("dir/sub:file")]
    [InlineData("plainname")]
    [InlineData("")]
    [InlineData("~/x")]
    public void Leaves_local_paths_local(string text)
    {
        Assert.False(RemotePath.TryParse(text, out RemotePath? remote));
        Assert.Null(remote);
        Assert.False(RemotePath.IsRemote(text));
    }

    /// <summary>What Windows writes for a local path (a drive letter, a UNC or device path, a backslash before a colon)
    /// stays local when the cmdlets run there; the same text on Linux is what rsync makes of it: a host "C" and so on.</summary>
    [Theory]
    [InlineData(@"C:\data\photos")]
    [InlineData("C:/data/photos")]
    [InlineData("c:relative")]
    [InlineData(@"D:")]
    [InlineData(@"\\server\share\dir")]
    [InlineData(@"\\?\C:\very\long\path")]
    [InlineData(@"\\?\UNC\server\share\x")]
    [InlineData(@"\\.\C:\x")]
    [InlineData(@"dir\sub:file")]
    public void Windows_local_paths_stay_local_on_Windows(string text)
    {
        Assert.False(RemotePath.TryParse(text, windows: true, out RemotePath? remote));
        Assert.Null(remote);

        // Unix has no drive letters: there rsync's rule reads host "C" (as rsync itself does).
        if (text.Length > 1 && text[1] == ':')
        {
            Assert.True(RemotePath.TryParse(text, windows: false, out remote));
            Assert.Equal(text[..1], remote.Endpoint.Host);
        }
    }

    [Theory]
    [InlineData("host:dir", "host", "dir")]
    [InlineData("me@nas:/volume1/backup", "nas", "/volume1/backup")]
    [InlineData("ab:x", "ab", "x")]
    [InlineData(@"host:C:\data", "host", @"C:\data")]
    [InlineData("ssh://host/C:/data", "host", "/C:/data")]
    public void Remote_paths_are_remote_on_Windows_too(string text, string host, string path)
    {
        Assert.True(RemotePath.TryParse(text, windows: true, out RemotePath? remote));
        Assert.Equal(host, remote.Endpoint.Host);
        Assert.Equal(path, remote.Path);
    }

    [Theory]
    [InlineData(":path", "host name is empty")]
    [InlineData("@host:path", "user name")]
    [InlineData("host::module", "daemon")]
    [InlineData("[::1:path", "")]
    [InlineData("ssh://host:0/x", "port")]
    [InlineData("ssh://host:65536/x", "port")]
    [InlineData("ssh://host:abc/x", "port")]
    [InlineData("ssh://host:/x", "port")]
    [InlineData("ssh:///x", "host name is empty")]
    [InlineData("ssh://host/a%2", "'%'")]
    [InlineData("ssh://host/a%zz", "'%'")]
    [InlineData("ssh://host/a%FF", "UTF-8")]
    [InlineData("ssh://host/a%00b", "NUL")]
    [InlineData("ssh://[::1/x", "']'")]
    [InlineData("ssh://[::1]x/y", "':port'")]
    [InlineData("-oProxyCommand=x:y", "starts with '-'")]
    [InlineData("ho st:x", "contains")]
    public void Refuses_malformed_remote_paths_with_InvalidRemotePath(string text, string why)
    {
        if (text == "[::1:path")
        {
            // No ']' before the first slash: not a host spec at all, so it is local (as rsync would take it).
            Assert.False(RemotePath.TryParse(text, out _));
            return;
        }

        SyncException ex = Assert.Throws<SyncException>(() => RemotePath.TryParse(text, out _));
        Assert.Equal(ErrorIds.InvalidRemotePath, ex.ErrorId);
        Assert.Equal(SyncErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
        Assert.Equal(text, ex.Target);
    }

    [Fact]
    public void Parse_refuses_a_local_path()
    {
        SyncException ex = Assert.Throws<SyncException>(() => RemotePath.Parse("/local/dir"));
        Assert.Equal(ErrorIds.InvalidRemotePath, ex.ErrorId);
    }

    [Theory]
    [InlineData("me@host:/srv", "me@host:/srv")]
    [InlineData("host:", "host:")]
    [InlineData("ssh://me@host:2222/srv", "ssh://me@host:2222/srv")]
    [InlineData("ssh://host:2222/~/rel", "ssh://host:2222/~/rel")]
    [InlineData("[::1]:x", "[::1]:x")]
    public void Round_trips_through_ToString(string text, string expected)
    {
        RemotePath parsed = RemotePath.Parse(text);
        Assert.Equal(expected, parsed.ToString());
        Assert.Equal(parsed, RemotePath.Parse(parsed.ToString()));
    }

    [Fact]
    public void Endpoint_rejects_bad_ports()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SshEndpoint("h", null, 0));
        Assert.Equal("me@[::1]:22", new SshEndpoint("::1", "me", 22).ToString());
    }
}
