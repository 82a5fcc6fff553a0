using System.Threading;
using PSReplica.Engine.Native;
using PSReplica.Engine.Tests;

namespace PSReplica.Ssh.Tests;

/// <summary>A push over SFTP to a FAT file system (fusefat, root only; the test sshd is on this machine, so its paths
/// are local ones): SFTP names no file-system type, so a probe in the destination measures it when the run writes. FAT's
/// 2-second times are then compared as FAT keeps them (a second run sends nothing without -ModifyWindow), owners and
/// modes it cannot hold are neither tried nor an error per file (one warning each), a link is SymbolicLinkUnsupported,
/// and two names that fold to one are a CaseCollision. A dry run writes no probe.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(SshServerGroup.Name)]
public sealed class SftpFileSystemTraitsTests : IDisposable
{
    private readonly TestSshServer _server;
    private readonly TestTree _tree = new();
    private readonly FatImage _fat;
    private readonly string _mount;

    public SftpFileSystemTraitsTests(TestSshServer server)
    {
        _server = server;
        _fat = new FatImage(_tree.Root);
        _mount = _fat.Mount;
    }

    public void Dispose()
    {
        _fat.Dispose();
        _tree.Dispose();
    }

    [Fact]
    public void A_push_over_sftp_to_fat_is_measured_and_converges_with_one_warning_per_limit()
    {
        _tree.Src("DCIM/100CANON/IMG_0001.JPG", new string('a', 5000));
        _tree.Src("DCIM/100CANON/IMG_0002.JPG", new string('b', 7000));
        _tree.Src("MISC/README.TXT", "upper");
        _tree.Src("MISC/Readme.txt", "mixed");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "latest"), "DCIM/100CANON/IMG_0002.JPG");
        // An odd second: FAT keeps the even one below it, which the quick check must take as equal.
        TestTree.SetTime(Path.Join(_tree.Source, "DCIM/100CANON/IMG_0001.JPG"), TestTree.BaseTime + 3, 700_000_000);
        string destination = Path.Join(_mount, "backup");
        Directory.CreateDirectory(destination);
        SyncOptions options = _tree.Options() with
        {
            Destination = destination,
            Preserve = PreserveOptions.Times | PreserveOptions.Permissions | PreserveOptions.Owner | PreserveOptions.Group | PreserveOptions.Links,
        };
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();

        var dry = new RecordingObserver { WantsVerbose = true };
        SftpReplicator.Open(sftp, RemoteSide.Destination, destination).Run(options, dry, CancellationToken.None, dryRun: true);
        Assert.Empty(Directory.GetFileSystemEntries(destination));
        Assert.DoesNotContain(dry.Verbose, v => v.Contains("measured over SFTP", StringComparison.Ordinal));

        var first = new RecordingObserver { WantsVerbose = true };
        SftpReplicator.Open(sftp, RemoteSide.Destination, destination).Run(options, first, CancellationToken.None);

        Assert.Contains(first.Verbose, v => v.Contains("measured over SFTP (measured): times kept to 2 s, no owners, no permissions, no symbolic links", StringComparison.Ordinal)
            && v.Contains("case-insensitive names", StringComparison.Ordinal));
        Assert.Equal(
            [ErrorIds.CaseCollision + " MISC/Readme.txt", ErrorIds.SymbolicLinkUnsupported + " latest"],
            first.Errors.Select(e => e.ErrorId + " " + e.Target).Order(StringComparer.Ordinal));
        Assert.Equal(2, first.Warnings.Count);
        Assert.Contains(first.Warnings, w => w.Contains("cannot hold owners", StringComparison.Ordinal));
        Assert.Contains(first.Warnings, w => w.Contains("cannot hold permissions", StringComparison.Ordinal));
        Assert.Equal(new string('a', 5000), File.ReadAllText(Path.Join(destination, "DCIM/100CANON/IMG_0001.JPG")));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(destination), e => Path.GetFileName(e).Contains("psreplica-probe", StringComparison.Ordinal));

        Assert.Equal(0, Posix.Stat(Path.Join(destination, "DCIM/100CANON/IMG_0001.JPG"), follow: false, out StatInfo kept));
        Assert.Equal((TestTree.BaseTime + 2, 0u), (kept.MtimeSeconds, kept.MtimeNanoseconds));
        var second = new RecordingObserver();
        SftpReplicator.Open(sftp, RemoteSide.Destination, destination).Run(options, second, CancellationToken.None);

        Assert.Empty(second.Items);
        Assert.Equal(2, second.Errors.Count);
    }
}
