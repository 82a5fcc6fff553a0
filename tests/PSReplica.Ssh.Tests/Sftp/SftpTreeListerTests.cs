using System;
using System.Collections.Generic;

namespace PSReplica.Ssh.Tests;

/// <summary>A hostile server's directory listing (DESIGN.md security invariant 1): every name must be one safe
/// component, once; the first violation is the session's fault.</summary>
public sealed class SftpTreeListerTests
{
    [Theory]
    [InlineData("../escape")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b")]
    [InlineData("/etc")]
    [InlineData("nul\0name")]
    [InlineData("")]
    public void An_unsafe_name_aborts(string name)
    {
        var lister = Lister([File("ok"), File(name)]);
        var error = Assert.Throws<SyncException>(() => lister.List("/srv/root", string.Empty));
        Assert.Equal(ErrorIds.UnsafePath, error.ErrorId);
        Assert.Same(error, lister.Fault);
    }

    [Fact]
    public void A_repeated_name_aborts()
    {
        var lister = Lister([File("twice"), new SftpEntry("twice", "/srv/root/twice", SftpEntryKind.Directory, 0, DateTime.UnixEpoch, 493, 0, 0)]);
        var error = Assert.Throws<SyncException>(() => lister.List("/srv/root", string.Empty));
        Assert.Equal(ErrorIds.UnsafePath, error.ErrorId);
        Assert.NotNull(lister.Fault);
    }

    [Fact]
    public void A_link_target_with_NUL_aborts()
    {
        var lister = new SftpTreeLister(_ => [new SftpEntry("l", "/srv/root/l", SftpEntryKind.SymbolicLink, 0, DateTime.UnixEpoch, 511, 0, 0)],
            _ => "a\0b", "/srv/root");
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => lister.List("/srv/root", string.Empty)).ErrorId);
    }

    [Fact]
    public void Safe_names_come_back_sorted_with_distinct_identities()
    {
        var lister = new SftpTreeLister(path =>
        {
            Assert.Equal("/srv/root/sub dir", path);
            return [File("b"), File("a b"), new SftpEntry("l", "x", SftpEntryKind.SymbolicLink, 0, DateTime.UnixEpoch, 511, 0, 0), File("..hidden")];
        }, path => path == "/srv/root/sub dir/l" ? "../elsewhere" : throw new InvalidOperationException(path), "/srv/root");
        var entries = lister.List("ignored", "sub dir");
        Assert.Equal(["..hidden", "a b", "b", "l"], entries.ConvertAll(e => e.Name));
        Assert.Equal("../elsewhere", entries[3].LinkTarget);
        Assert.Equal("/srv/root/sub dir/a b", entries[1].FullPath);
        Assert.Equal(4, new HashSet<ulong>(entries.ConvertAll(e => e.Inode)).Count);
        Assert.Null(lister.Fault);
    }

    private static SftpTreeLister Lister(IReadOnlyList<SftpEntry> entries) => new(_ => entries, _ => "target", "/srv/root");

    private static SftpEntry File(string name) =>
        new(name, "/srv/root/" + name, SftpEntryKind.File, 3, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), 420, 0, 0);
}
