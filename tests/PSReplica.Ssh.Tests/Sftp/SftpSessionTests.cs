using System;
using System.IO;
using System.Linq;

namespace PSReplica.Ssh.Tests;

[Collection(SshServerGroup.Name)]
public sealed class SftpSessionTests(TestSshServer server) : IDisposable
{
    private readonly TestSshServer _server = server;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Files_are_written_listed_stated_renamed_and_deleted()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();
        string root = _dir.Path;
        byte[] data = new byte[300_000];
        new Random(7).NextBytes(data);

        sftp.Mkdir(root + "/sub");
        using (Stream write = sftp.CreateExclusive(root + "/sub/.tmp"))
        {
            write.Write(data);
        }

        Assert.Throws<IOException>(() => sftp.CreateExclusive(root + "/sub/.tmp").Dispose());
        File.WriteAllText(Path.Combine(root, "sub", "target"), "old");
        sftp.Rename(root + "/sub/.tmp", root + "/sub/target");
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(root, "sub", "target")));

        using (Stream read = sftp.OpenRead(root + "/sub/target"))
        using (var copy = new MemoryStream())
        {
            read.CopyTo(copy);
            Assert.Equal(data, copy.ToArray());
        }

        var time = new DateTime(2020, 5, 17, 10, 30, 0, DateTimeKind.Utc);
        sftp.SetAttributes(root + "/sub/target", new SftpAttributeChanges { LastWriteTimeUtc = time, Mode = Convert.ToInt32("640", 8) });
        SftpEntry entry = sftp.Stat(root + "/sub/target")!;
        Assert.Equal(SftpEntryKind.File, entry.Kind);
        Assert.Equal(data.Length, entry.Length);
        Assert.Equal(time, entry.LastWriteTimeUtc);
        Assert.Equal(Convert.ToInt32("640", 8), entry.Mode);
        Assert.Equal(time, File.GetLastWriteTimeUtc(Path.Combine(root, "sub", "target")));
        Assert.Equal("target", entry.Name);

        File.CreateSymbolicLink(Path.Combine(root, "sub", "link"), "target");
        SftpEntry[] listed = [.. sftp.List(root + "/sub").OrderBy(e => e.Name, StringComparer.Ordinal)];
        Assert.Equal(["link", "target"], listed.Select(e => e.Name));
        Assert.Equal(SftpEntryKind.SymbolicLink, listed[0].Kind);
        Assert.Equal(SftpEntryKind.Directory, sftp.Stat(root + "/sub")!.Kind);

        Assert.Equal(SftpEntryKind.SymbolicLink, sftp.Stat(root + "/sub/link")!.Kind);
        Assert.Throws<IOException>(() => sftp.SetAttributes(root + "/sub/link", new SftpAttributeChanges { Mode = 511 }));
        Assert.Throws<IOException>(() => sftp.List(root + "/sub/link"));
        Assert.Equal(Convert.ToInt32("640", 8), sftp.Stat(root + "/sub/target")!.Mode);

        // Removing the link removes the link, not what it points to.
        sftp.Delete(root + "/sub/link");
        Assert.True(File.Exists(Path.Combine(root, "sub", "target")));
        Assert.Null(sftp.Stat(root + "/sub/link"));
        File.CreateSymbolicLink(Path.Combine(root, "sub", "link2"), "target");
        sftp.Rename(root + "/sub/link2", root + "/sub/renamed");
        Assert.Equal("target", new FileInfo(Path.Combine(root, "sub", "renamed")).LinkTarget);
        sftp.Delete(root + "/sub/renamed");
        sftp.Delete(root + "/sub/target");
        sftp.DeleteDirectory(root + "/sub");
        Assert.Null(sftp.Stat(root + "/sub"));
        Assert.False(Directory.Exists(Path.Combine(root, "sub")));
    }

    [Fact]
    public void Missing_paths_raise_FileNotFoundException()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();
        Assert.Throws<FileNotFoundException>(() => sftp.OpenRead(_dir.Combine("absent")).Dispose());
        Assert.Throws<FileNotFoundException>(() => sftp.List(_dir.Combine("absent")));
        Assert.Null(sftp.Stat(_dir.Combine("absent")));
        Assert.False(string.IsNullOrEmpty(sftp.WorkingDirectory));
    }
}
