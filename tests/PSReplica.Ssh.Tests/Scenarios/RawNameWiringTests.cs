using PSReplica.Engine.Tests;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>Issue 18, D3/D4 over every wiring: names that are not UTF-8 (a file beside its U+FFFD look-alike, a directory
/// and a file in it, a symbolic link whose name and target are not UTF-8, an extraneous one to delete) are replicated byte
/// for byte locally, through the agent and over SFTP (SSH.NET takes NameEncoding), and a second run has nothing to do.
/// The portable backend cannot open such names: it says so (NameNotRepresentable) and writes none of them.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RawNameWiringTests(SftpFixture sftp) : IClassFixture<SftpFixture>
{
    private static readonly byte[] s_ff = [(byte)'a', 0xFF];
    private static readonly byte[] s_lookAlike = [(byte)'a', 0xEF, 0xBF, 0xBD];
    private static readonly byte[] s_directory = [(byte)'d', 0xC3, 0x28];
    private static readonly byte[] s_inner = [.. s_directory, (byte)'/', (byte)'f', 0x80];
    private static readonly byte[] s_link = [(byte)'l', 0xFE];
    private static readonly byte[] s_extraneous = [(byte)'x', 0x81];

    private readonly SftpFixture _sftp = sftp;

    [Theory]
    [InlineData(Wiring.Local)]
    [InlineData(Wiring.AgentPush)]
    [InlineData(Wiring.AgentPull)]
    [InlineData(Wiring.SftpPush)]
    [InlineData(Wiring.SftpPull)]
    public async Task Names_that_are_not_utf8_are_replicated_exactly_and_converge(Wiring wiring)
    {
        using var tree = new TestTree();
        using var cleanup = new RawTreeCleanup(tree.Root);
        Build(tree);
        SyncOptions options = tree.Options(delete: true);

        var first = new RecordingObserver();
        _ = await WiringRunner.RunAsync(wiring, options, first, _sftp.Sftp);

        Assert.Empty(first.Errors);
        Assert.Equal("raw", RawNames.ReadFile(tree.Destination, s_ff));
        Assert.Equal("utf8", RawNames.ReadFile(tree.Destination, s_lookAlike));
        Assert.Equal("inner", RawNames.ReadFile(tree.Destination, s_inner));
        Assert.Equal(s_ff, RawNames.ReadLink(tree.Destination, s_link));
        Assert.False(RawNames.Exists(tree.Destination, s_extraneous));
        Assert.Contains(first.Items, i => i.RelativePath == NameCodec.Decode(s_ff) && i.Action == SyncAction.Create);

        var second = new RecordingObserver();
        _ = await WiringRunner.RunAsync(wiring, options, second, _sftp.Sftp);
        Assert.Empty(second.Errors);
        Assert.Empty(second.Items);
    }

    [Theory]
    [InlineData(Wiring.Local)]
    [InlineData(Wiring.AgentPush)]
    [InlineData(Wiring.AgentPull)]
    [InlineData(Wiring.SftpPush)]
    public async Task A_hard_link_group_of_names_that_are_not_utf8_is_linked_and_converges(Wiring wiring)
    {
        // Over SFTP the link goes by hardlink@openssh.com, whose paths SSH.NET itself would send as UTF-8 (U+FFFD for the
        // byte): the link failed on every run. (A source reached over SFTP has no link counts: refused.)
        using var tree = new TestTree();
        using var cleanup = new RawTreeCleanup(tree.Root);
        byte[] first = [(byte)'h', 0xFF, (byte)'1'];
        byte[] second = [.. s_directory, (byte)'/', (byte)'h', 0xFE, (byte)'2'];
        RawNames.WriteFile(tree.Source, first, "linked");
        RawNames.MakeDirectory(tree.Source, s_directory);
        RawNames.MakeHardLink(tree.Source, first, second);
        Directory.CreateDirectory(tree.Destination);
        SyncOptions options = tree.Options() with { Preserve = tree.Options().Preserve | PreserveOptions.HardLinks };

        var run = new RecordingObserver();
        _ = await WiringRunner.RunAsync(wiring, options, run, _sftp.Sftp);

        Assert.Empty(run.Errors);
        StatInfo a = TestTree.Stat(Path.Combine(tree.Destination, NameCodec.Decode(first)));
        StatInfo b = TestTree.Stat(Path.Combine(tree.Destination, NameCodec.Decode(second)));
        Assert.Equal((a.Device, a.Inode), (b.Device, b.Inode));
        Assert.Equal("linked", RawNames.ReadFile(tree.Destination, second));

        var again = new RecordingObserver();
        _ = await WiringRunner.RunAsync(wiring, options, again, _sftp.Sftp);
        Assert.Empty(again.Errors);
        if (wiring == Wiring.SftpPush)
        {
            // SFTP shows no inode numbers, so a later name is linked again on every run (documented).
            Assert.Equal(SyncItemType.HardLink, Assert.Single(again.Items).ItemType);
        }
        else
        {
            Assert.Empty(again.Items);
        }
    }

    [Fact]
    public async Task The_portable_backend_reports_a_name_it_cannot_open_and_writes_nothing_in_its_place()
    {
        using var tree = new TestTree();
        using var cleanup = new RawTreeCleanup(tree.Root);
        Build(tree);

        var observer = new RecordingObserver();
        try
        {
            _ = await WiringRunner.RunAsync(Wiring.Portable, tree.Options(delete: true), observer, _sftp.Sftp);
        }
        catch (SyncException ended)
        {
            // The source root's own listing failing ends the run: the same error, as a terminating one.
            observer.Errors.Add(ended);
        }

        Assert.Contains(observer.Errors, e => e.ErrorId == ErrorIds.NameNotRepresentable);
        Assert.False(RawNames.Exists(tree.Destination, s_ff));
        Assert.True(RawNames.Exists(tree.Destination, s_extraneous), "nothing is deleted beside a name that could not be read");
    }

    private static void Build(TestTree tree)
    {
        RawNames.WriteFile(tree.Source, s_ff, "raw");
        RawNames.WriteFile(tree.Source, s_lookAlike, "utf8");
        RawNames.MakeDirectory(tree.Source, s_directory);
        RawNames.WriteFile(tree.Source, s_inner, "inner");
        RawNames.MakeLink(tree.Source, s_link, s_ff);
        Directory.CreateDirectory(tree.Destination);
        RawNames.WriteFile(tree.Destination, s_extraneous, "gone");
    }
}
