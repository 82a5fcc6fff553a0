using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using PSReplica.Engine.Native;

namespace PSReplica.Ssh.Tests;

/// <summary>The SFTP fallback end to end against the private sshd: push and pull of a small tree with odd names,
/// links and modes, re-runs that find nothing to do, deletion, and a dry run that changes nothing.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(SshServerGroup.Name)]
public sealed class SftpReplicatorTests(TestSshServer server) : IDisposable
{
    private readonly TestSshServer _server = server;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Push_then_pull_reproduce_the_tree_and_a_rerun_finds_nothing()
    {
        string source = MakeTree(_dir.Combine("source"));
        string pushed = _dir.Combine("pushed", "deeper");
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();

        var observer = new RecordingObserver();
        SyncSummary summary = SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(Options(source, pushed), observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        Assert.True(summary.Created >= 8, $"{summary.Created} created");
        AssertSameTree(source, pushed);
        Assert.Contains(observer.Items, i => i.RelativePath == "sub dir/ünïcödé ✓.txt" && i.Action == SyncAction.Create && i.BytesTransferred == 5);

        var again = new RecordingObserver();
        Assert.Empty(SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Plan(Options(source, pushed), again, CancellationToken.None).Actions);

        string pulled = _dir.Combine("pulled");
        var pull = new RecordingObserver();
        SftpReplicator.Open(sftp, RemoteSide.Source, pushed).Run(Options(pushed, pulled), pull, CancellationToken.None);
        Assert.Empty(pull.Errors);
        AssertSameTree(source, pulled);
        Assert.Empty(SftpReplicator.Open(sftp, RemoteSide.Source, pushed).Plan(Options(pushed, pulled), new RecordingObserver(), CancellationToken.None).Actions);
    }

    [Fact]
    public void Changed_files_are_replaced_whole_and_extraneous_ones_deleted()
    {
        string source = MakeTree(_dir.Combine("source"));
        string pushed = _dir.Combine("pushed");
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();
        SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(Options(source, pushed), new RecordingObserver(), CancellationToken.None);

        File.WriteAllText(Path.Combine(source, "a.txt"), "changed content");
        File.SetLastWriteTimeUtc(Path.Combine(source, "a.txt"), new DateTime(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        File.WriteAllText(Path.Combine(pushed, "extra.txt"), "x");
        Directory.CreateDirectory(Path.Combine(pushed, "extra dir", "inner"));
        File.CreateSymbolicLink(Path.Combine(pushed, "sub dir", "extra-link"), "/etc/passwd");

        // A dry run reports and changes nothing.
        var dry = new RecordingObserver();
        SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(Options(source, pushed) with { Delete = true }, dry, CancellationToken.None, dryRun: true);
        Assert.Contains(dry.Items, i => i.RelativePath == "a.txt" && i.Action == SyncAction.Update);
        Assert.Equal("x", File.ReadAllText(Path.Combine(pushed, "extra.txt")));
        Assert.NotEqual("changed content", File.ReadAllText(Path.Combine(pushed, "a.txt")));

        var observer = new RecordingObserver();
        SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(Options(source, pushed) with { Delete = true }, observer, CancellationToken.None);
        Assert.Empty(observer.Errors);
        SyncItem update = Assert.Single(observer.Items, i => i.RelativePath == "a.txt");
        Assert.Equal(SyncReason.SizeChanged, update.Reason);
        Assert.Equal(15, update.BytesTransferred);
        Assert.Equal(0, update.BytesMatched);
        Assert.Equal(["extra dir", "extra dir/inner", "extra.txt", "sub dir/extra-link"],
            observer.Items.Where(i => i.Action == SyncAction.Delete).Select(i => i.RelativePath).Order(StringComparer.Ordinal));
        Assert.True(File.Exists("/etc/passwd"));
        AssertSameTree(source, pushed);
        Assert.Empty(Directory.GetFiles(pushed, ".~psr*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_missing_source_and_a_file_as_destination_are_refused()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();
        var missing = Assert.Throws<SyncException>(() => SftpReplicator.Open(sftp, RemoteSide.Source, _dir.Combine("absent")));
        Assert.Equal(ErrorIds.SourceNotFound, missing.ErrorId);
        File.WriteAllText(_dir.Combine("file"), "x");
        var file = Assert.Throws<SyncException>(() => SftpReplicator.Open(sftp, RemoteSide.Destination, _dir.Combine("file")));
        Assert.Equal(ErrorIds.DestinationNotDirectory, file.ErrorId);
    }

    [Fact]
    public void A_time_before_1970_is_a_per_item_error_and_the_rest_is_pushed()
    {
        string source = _dir.Combine("old");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "ancient.txt"), "old");
        File.WriteAllText(Path.Combine(source, "recent.txt"), "new");
        File.SetLastWriteTimeUtc(Path.Combine(source, "ancient.txt"), new DateTime(1960, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        string pushed = _dir.Combine("old-pushed");
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();

        var observer = new RecordingObserver();
        SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(Options(source, pushed), observer, CancellationToken.None);
        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.MetadataFailed, error.ErrorId);
        Assert.Equal("ancient.txt", error.Target);
        Assert.Equal("new", File.ReadAllText(Path.Combine(pushed, "recent.txt")));
        Assert.False(File.Exists(Path.Combine(pushed, "ancient.txt")));
        Assert.Empty(Directory.GetFiles(pushed, ".~psr*"));
    }

    [Fact]
    public void A_connection_dropped_mid_file_ends_the_run_cleanly_and_a_rerun_converges()
    {
        string source = _dir.Combine("drop");
        Directory.CreateDirectory(source);
        byte[] big = new byte[48 << 20];
        new Random(11).NextBytes(big);
        File.WriteAllBytes(Path.Combine(source, "big.bin"), big);
        string pushed = _dir.Combine("drop-pushed");
        Directory.CreateDirectory(pushed);
        File.WriteAllText(Path.Combine(pushed, "big.bin"), "the old version");

        using (SshSession session = SshConnector.Connect(_server.Options()))
        using (SftpSession sftp = session.OpenSftp())
        {
            int killed = 0;
            var observer = new RecordingObserver
            {
                OnProgressHook = p =>
                {
                    if (p.CurrentPath == "big.bin" && p.CurrentBytesDone > 0 && Interlocked.Exchange(ref killed, 1) == 0)
                    {
                        Assert.True(_server.KillConnections() > 0);
                    }
                },
            };
            var error = Assert.Throws<SyncException>(() =>
                SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(Options(source, pushed), observer, CancellationToken.None));
            Assert.Equal(1, killed);
            Assert.Contains(error.ErrorId, new[] { ErrorIds.SshConnectionFailed, ErrorIds.SshConnectionTimeout });
        }

        // The target is the old file or the new one, never a torn mix.
        Assert.Equal("the old version", File.ReadAllText(Path.Combine(pushed, "big.bin")));

        using (SshSession session = SshConnector.Connect(_server.Options()))
        using (SftpSession sftp = session.OpenSftp())
        {
            var observer = new RecordingObserver();
            SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(Options(source, pushed), observer, CancellationToken.None);
            Assert.Empty(observer.Errors);
        }

        Assert.Equal(big, File.ReadAllBytes(Path.Combine(pushed, "big.bin")));
        Assert.Empty(Directory.GetFiles(pushed, ".~psr*"));
    }

    [Theory]
    [InlineData(CompareMode.Checksum, TransferMode.Auto, 0, RemoteSide.Destination)]
    [InlineData(CompareMode.QuickCheck, TransferMode.Delta, 0, RemoteSide.Source)]
    [InlineData(CompareMode.QuickCheck, TransferMode.Auto, -1, RemoteSide.Destination)]
    public void Options_SFTP_cannot_honour_are_refused(CompareMode compare, TransferMode transfer, int window, RemoteSide side)
    {
        var options = new SyncOptions { Source = "/a", Destination = "/b", CompareMode = compare, TransferMode = transfer, ModifyWindow = window };
        var error = Assert.Throws<SyncException>(() => SftpReplicator.CheckSupported(options, side));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.Contains("SFTP", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Windows_file_attributes_are_refused_over_SFTP_and_the_archive_flag_of_a_remote_source_is_unknown()
    {
        // SFTP carries no Windows attributes; a push's source is local, where -ArchiveOnly reads them, but -ResetArchive
        // would have to verify each copy by reading it back.
        var attributes = new SyncOptions { Source = "/a", Destination = "/b", Preserve = PreserveOptions.Attributes };
        Assert.Equal(["-Preserve Attributes"], SftpReplicator.CapabilitiesOf(RemoteSide.Source, serverLinks: true).Unsupported(attributes));
        Assert.Equal(["-Preserve Attributes"], SftpReplicator.CapabilitiesOf(RemoteSide.Destination, serverLinks: true).Unsupported(attributes));
        var archive = new SyncOptions { Source = "/a", Destination = "/b", ArchiveOnly = true, ResetArchive = true };
        Assert.Equal(["-ArchiveOnly", "-ResetArchive"], SftpReplicator.CapabilitiesOf(RemoteSide.Source, serverLinks: true).Unsupported(archive));
        Assert.Equal(["-ResetArchive"], SftpReplicator.CapabilitiesOf(RemoteSide.Destination, serverLinks: true).Unsupported(archive));
        var error = Assert.Throws<SyncException>(() => SftpReplicator.CheckSupported(attributes, RemoteSide.Destination));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.StartsWith("-Preserve Attributes cannot be used with a destination reached over SFTP", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(Engine.Endpoints.DestinationCapabilities.FileAttributesNote, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OneFileSystem_is_refused_where_the_server_would_have_to_tell_its_mount_points()
    {
        // SFTP lists no device ids: a pull could not see the source's mount points, a push's -Delete the destination's.
        var options = new SyncOptions { Source = "/a", Destination = "/b", OneFileSystem = true };
        Assert.Equal(["-OneFileSystem"], SftpReplicator.CapabilitiesOf(RemoteSide.Source, serverLinks: true).Unsupported(options));
        Assert.Equal(["-OneFileSystem"], SftpReplicator.CapabilitiesOf(RemoteSide.Source, serverLinks: true).Unsupported(options with { Delete = true }));
        Assert.Empty(SftpReplicator.CapabilitiesOf(RemoteSide.Destination, serverLinks: true).Unsupported(options));
        Assert.Equal(["-OneFileSystem with -Delete"], SftpReplicator.CapabilitiesOf(RemoteSide.Destination, serverLinks: true).Unsupported(options with { Delete = true }));
        var error = Assert.Throws<SyncException>(() => SftpReplicator.CheckSupported(options, RemoteSide.Source));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.StartsWith("-OneFileSystem cannot be used with a source reached over SFTP", error.Message, StringComparison.Ordinal);

        // The other selection options are the planner's alone: every wiring honours them.
        var selection = new SyncOptions
        {
            Source = "/a", Destination = "/b", Delete = true, PruneEmptyDirectories = true,
            MaxAgeCutoff = DateTime.UnixEpoch, MinAgeCutoff = DateTime.UtcNow,
        };
        Assert.Empty(SftpReplicator.CapabilitiesOf(RemoteSide.Source, serverLinks: true).Unsupported(selection));
        Assert.Empty(SftpReplicator.CapabilitiesOf(RemoteSide.Destination, serverLinks: true).Unsupported(selection));
    }

    [Fact]
    public void Hard_linked_names_are_linked_on_the_server_with_hardlink_at_openssh_com()
    {
        string source = _dir.Combine("source");
        Directory.CreateDirectory(Path.Combine(source, "d"));
        File.WriteAllText(Path.Combine(source, "f"), "shared");
        Assert.Equal(0, Posix.Link(Path.Combine(source, "f"), Path.Combine(source, "d", "g")));
        File.WriteAllText(Path.Combine(source, "lone"), "x");
        string pushed = _dir.Combine("pushed");
        Directory.CreateDirectory(Path.Combine(pushed, "d"));
        File.WriteAllText(Path.Combine(pushed, "d", "g"), "an older file of that name");
        SyncOptions options = Options(source, pushed) with { Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks };
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();
        Assert.True(sftp.OffersHardLinks);

        var observer = new RecordingObserver();
        SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(options, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        // The walk meets "d/g" first (it replaces the older file), so "f" is the group's second name.
        Assert.Contains(observer.Items, i => i.RelativePath == "f" && i.Action == SyncAction.Link && i.ItemType == SyncItemType.HardLink);
        Assert.Equal(InodeOf(Path.Combine(pushed, "f")), InodeOf(Path.Combine(pushed, "d", "g")));
        Assert.NotEqual(InodeOf(Path.Combine(pushed, "f")), InodeOf(Path.Combine(pushed, "lone")));
        Assert.Equal("shared", File.ReadAllText(Path.Combine(pushed, "d", "g")));
        Assert.Empty(Directory.GetFiles(pushed, ".~psr*", SearchOption.AllDirectories));

        // SFTP listings carry no inode numbers, so the server's links cannot be seen: a re-run links the later name again.
        var again = new RecordingObserver();
        SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(options, again, CancellationToken.None);
        Assert.Empty(again.Errors);
        Assert.Equal("f", Assert.Single(again.Items, i => i.ItemType != SyncItemType.Directory).RelativePath);
        Assert.Equal(InodeOf(Path.Combine(pushed, "f")), InodeOf(Path.Combine(pushed, "d", "g")));
        // Renaming the temp link over a name of the same file does nothing (POSIX): the temp name went all the same.
        Assert.Empty(Directory.GetFiles(pushed, ".~psr*", SearchOption.AllDirectories));

        // With -Backup such a re-link backs up nothing (the name holds the source's file already, by the quick check).
        var backedUp = new RecordingObserver();
        SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(options with { Backup = true }, backedUp, CancellationToken.None);
        Assert.Empty(backedUp.Errors);
        Assert.Empty(Directory.GetFiles(pushed, "*~", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(pushed, ".~psr*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("bak", null, "bak/", "")]
    [InlineData(null, null, "", "~")]
    [InlineData(null, ".old", "", ".old")]
    [InlineData("ABSOLUTE", "-v1", "ABSOLUTE/", "-v1")]
    public void Backup_moves_replaced_and_deleted_files_aside_on_the_server(string? backupDirectory, string? suffix, string prefix, string expectedSuffix)
    {
        string absolute = _dir.Combine("backups");
        backupDirectory = backupDirectory == "ABSOLUTE" ? absolute : backupDirectory;
        prefix = prefix.Replace("ABSOLUTE", absolute, StringComparison.Ordinal);
        string source = _dir.Combine("source");
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        File.WriteAllText(Path.Combine(source, "a.txt"), "new a");
        File.WriteAllText(Path.Combine(source, "sub", "b.txt"), "new b");
        File.CreateSymbolicLink(Path.Combine(source, "link"), "a.txt");
        string pushed = _dir.Combine("pushed");
        Directory.CreateDirectory(Path.Combine(pushed, "sub"));
        File.WriteAllText(Path.Combine(pushed, "a.txt"), "old a");
        File.WriteAllText(Path.Combine(pushed, "sub", "b.txt"), "old b, longer");
        File.WriteAllText(Path.Combine(pushed, "gone.txt"), "deleted");
        File.CreateSymbolicLink(Path.Combine(pushed, "link"), "elsewhere");
        SetTimes(source, new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc));
        SetTimes(pushed, new DateTime(2020, 3, 4, 5, 6, 7, DateTimeKind.Utc));
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();
        SyncOptions options = Options(source, pushed) with { Delete = true, Backup = true, BackupDirectory = backupDirectory, BackupSuffix = suffix };
        if (backupDirectory is null)
        {
            // As the cmdlet does: backups beside their files are protected from -Delete.
            options = options with { Filter = new SyncFilterBuilder().AddRule("P *" + expectedSuffix).Build() };
        }

        var observer = new RecordingObserver();
        SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(options, observer, CancellationToken.None);

        Assert.Empty(observer.Errors);
        string backups = backupDirectory is null ? pushed + "/" : prefix.StartsWith('/') ? prefix : Path.Combine(pushed, prefix);
        Assert.Equal("new a", File.ReadAllText(Path.Combine(pushed, "a.txt")));
        Assert.Equal("old a", File.ReadAllText(backups + "a.txt" + expectedSuffix));
        Assert.Equal("new b", File.ReadAllText(Path.Combine(pushed, "sub", "b.txt")));
        Assert.Equal("old b, longer", File.ReadAllText(backups + "sub/b.txt" + expectedSuffix));
        Assert.False(File.Exists(Path.Combine(pushed, "gone.txt")));
        Assert.Equal("deleted", File.ReadAllText(backups + "gone.txt" + expectedSuffix));
        Assert.Equal("a.txt", new FileInfo(Path.Combine(pushed, "link")).LinkTarget);
        Assert.Equal("elsewhere", new FileInfo(backups + "link" + expectedSuffix).LinkTarget);
        Assert.Empty(Directory.GetFiles(pushed, ".~psr*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_backup_is_made_only_once_the_new_file_is_complete_so_a_failed_transfer_keeps_the_old_one()
    {
        string source = _dir.Combine("source");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "ancient.txt"), "new ancient");
        File.SetLastWriteTimeUtc(Path.Combine(source, "ancient.txt"), new DateTime(1960, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        File.WriteAllText(Path.Combine(source, "recent.txt"), "new recent");
        string pushed = _dir.Combine("pushed");
        Directory.CreateDirectory(pushed);
        File.WriteAllText(Path.Combine(pushed, "ancient.txt"), "old ancient");
        File.WriteAllText(Path.Combine(pushed, "recent.txt"), "old recent");
        File.SetLastWriteTimeUtc(Path.Combine(source, "recent.txt"), new DateTime(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc));
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();

        // The ancient time cannot be set over SFTP: that transfer fails after its content was written, before the rename.
        var observer = new RecordingObserver();
        SftpReplicator.Open(sftp, RemoteSide.Destination, pushed).Run(Options(source, pushed) with { Backup = true }, observer, CancellationToken.None);

        Assert.Equal("ancient.txt", Assert.Single(observer.Errors).Target);
        Assert.Equal("old ancient", File.ReadAllText(Path.Combine(pushed, "ancient.txt")));
        Assert.False(File.Exists(Path.Combine(pushed, "ancient.txt~")));
        Assert.Equal("new recent", File.ReadAllText(Path.Combine(pushed, "recent.txt")));
        Assert.Equal("old recent", File.ReadAllText(Path.Combine(pushed, "recent.txt~")));
        Assert.Empty(Directory.GetFiles(pushed, ".~psr*"));
    }

    [Fact]
    public void Without_the_watch_a_file_written_after_the_plan_is_pushed_as_it_is_then_and_with_it_never_renamed_into_place()
    {
        string source = _dir.Combine("source");
        Directory.CreateDirectory(source);
        string file = Path.Combine(source, "busy.log");
        File.WriteAllText(file, "first line\n");
        string pushed = _dir.Combine("pushed");
        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();
        foreach (bool watch in new[] { false, true })
        {
            // A time of its own per round: an append within the clock's tick keeps the time, and the size tells the change.
            File.SetLastWriteTimeUtc(file, new DateTime(watch ? 2023 : 2022, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            SftpReplicator replicator = SftpReplicator.Open(sftp, RemoteSide.Destination, pushed);
            var observer = new RecordingObserver();
            SyncPlan plan = replicator.Plan(Options(source, pushed) with { SourceMustRest = watch }, observer, CancellationToken.None);
            File.AppendAllText(file, watch ? "third\n" : "second\n");
            replicator.Execute(plan, observer, CancellationToken.None);
            if (!watch)
            {
                Assert.Empty(observer.Errors);
                Assert.Equal("first line\nsecond\n", File.ReadAllText(Path.Combine(pushed, "busy.log")));
            }
            else
            {
                SyncException error = Assert.Single(observer.Errors);
                Assert.Equal(ErrorIds.SourceChangedSinceListing, error.ErrorId);
                Assert.Equal("busy.log", error.Target);
                Assert.Equal("first line\nsecond\n", File.ReadAllText(Path.Combine(pushed, "busy.log")));
                Assert.Equal(["busy.log"], Directory.EnumerateFileSystemEntries(pushed).Select(Path.GetFileName));
            }
        }
    }

    [Fact]
    public void A_server_without_hardlink_at_openssh_com_refuses_hard_links_on_a_push_only()
    {
        var options = new SyncOptions { Source = "/a", Destination = "/b", Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks };
        Assert.Equal(["-Preserve HardLinks"], SftpReplicator.CapabilitiesOf(RemoteSide.Destination, serverLinks: false).Unsupported(options));
        Assert.Contains("hardlink@openssh.com", SftpReplicator.CapabilitiesOf(RemoteSide.Destination, serverLinks: false).Wiring, StringComparison.Ordinal);
        Assert.Empty(SftpReplicator.CapabilitiesOf(RemoteSide.Destination, serverLinks: true).Unsupported(options));
    }

    private static void SetTimes(string root, DateTime time)
    {
        foreach (string file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            if (!new FileInfo(file).Attributes.HasFlag(FileAttributes.ReparsePoint))
            {
                File.SetLastWriteTimeUtc(file, time);
            }
        }
    }

    private static ulong InodeOf(string path)
    {
        Assert.Equal(0, Posix.Stat(path, follow: false, out StatInfo info));
        return info.Inode;
    }

    [Theory]
    [InlineData("remove-source-files", RemoteSide.Destination, "-RemoveSourceFiles")]
    [InlineData("remove-source-files", RemoteSide.Source, "-RemoveSourceFiles")]
    [InlineData("link-dest", RemoteSide.Destination, "-LinkDest")]
    [InlineData("hard-links", RemoteSide.Source, "-Preserve HardLinks")]
    public void Options_that_would_do_nothing_or_something_else_over_SFTP_are_refused_up_front(string option, RemoteSide side, string parameter)
    {
        string local = MakeTree(_dir.Combine("local"));
        string remote = MakeTree(_dir.Combine("remote"));
        List<string> before = [.. Describe(local), .. Describe(remote)];
        SyncOptions options = (side == RemoteSide.Destination ? Options(local, remote) : Options(remote, local)) with { Delete = true };
        options = option switch
        {
            "remove-source-files" => options with { RemoveSourceFiles = true },
            "link-dest" => options with { LinkDest = [_dir.Combine("local")] },
            _ => options with { Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks },
        };

        var early = Assert.Throws<SyncException>(() => SftpReplicator.CheckSupported(options, side));
        Assert.Equal(ErrorIds.InvalidParameterCombination, early.ErrorId);
        Assert.StartsWith(parameter + " cannot be used with a " + (side == RemoteSide.Destination ? "destination" : "source") + " reached over SFTP",
            early.Message, StringComparison.Ordinal);

        using SshSession session = SshConnector.Connect(_server.Options());
        using SftpSession sftp = session.OpenSftp();
        SftpReplicator replicator = SftpReplicator.Open(sftp, side, remote);
        Assert.Equal(ErrorIds.InvalidParameterCombination,
            Assert.Throws<SyncException>(() => replicator.Run(options, new RecordingObserver(), CancellationToken.None)).ErrorId);
        Assert.Equal(ErrorIds.InvalidParameterCombination, Assert.Throws<SyncException>(() =>
            replicator.Execute(new SyncPlan(options, options.Source, options.Destination), new RecordingObserver(), CancellationToken.None)).ErrorId);
        Assert.Equal(before, [.. Describe(local), .. Describe(remote)]);
    }

    private static SyncOptions Options(string source, string destination) => new() { Source = source, Destination = destination };

    /// <summary>Files with spaces and non-ASCII names, a set-user-ID executable, a set-group-ID directory, an empty directory, relative and dangling links,
    /// times in whole seconds (SFTP v3 carries no more).</summary>
    private static string MakeTree(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "sub dir", "empty"));
        File.WriteAllText(Path.Combine(root, "a.txt"), "alpha");
        File.WriteAllText(Path.Combine(root, "sub dir", "ünïcödé ✓.txt"), "hello");
        byte[] big = new byte[700_000];
        new Random(3).NextBytes(big);
        File.WriteAllBytes(Path.Combine(root, "sub dir", "big.bin"), big);
        File.WriteAllText(Path.Combine(root, "run.sh"), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(root, "run.sh"), (UnixFileMode)Convert.ToInt32("4750", 8));
        File.SetUnixFileMode(Path.Combine(root, "sub dir"), (UnixFileMode)Convert.ToInt32("2775", 8));
        File.SetUnixFileMode(Path.Combine(root, "sub dir", "big.bin"), (UnixFileMode)Convert.ToInt32("600", 8));
        File.CreateSymbolicLink(Path.Combine(root, "link to a"), "a.txt");
        File.CreateSymbolicLink(Path.Combine(root, "sub dir", "dangling"), "../nowhere/at all");
        int n = 0;
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).OrderByDescending(p => p.Length))
        {
            if (!new FileInfo(path).Attributes.HasFlag(FileAttributes.ReparsePoint))
            {
                File.SetLastWriteTimeUtc(path, new DateTime(2021, 3, 4, 5, 6, 7 + n++, DateTimeKind.Utc));
            }
        }

        Directory.SetLastWriteTimeUtc(root, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        return root;
    }

    private static void AssertSameTree(string expected, string actual)
    {
        Assert.Equal(Describe(expected), Describe(actual));
    }

    private static List<string> Describe(string root)
    {
        var lines = new List<string>();
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(path);
            string relative = Path.GetRelativePath(root, path);
            if (info.LinkTarget is { } target)
            {
                lines.Add($"L {relative} -> {target}");
            }
            else if (Directory.Exists(path))
            {
                lines.Add($"D {relative} {Convert.ToString((int)File.GetUnixFileMode(path), 8)} {Directory.GetLastWriteTimeUtc(path):O}");
            }
            else
            {
                lines.Add($"F {relative} {Convert.ToString((int)File.GetUnixFileMode(path), 8)} {info.LastWriteTimeUtc:O} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)))}");
            }
        }

        return lines;
    }

    private sealed class RecordingObserver : ISyncObserver
    {
        public ConcurrentQueue<SyncItem> Items { get; } = new();

        public ConcurrentQueue<SyncException> Errors { get; } = new();

        public void OnItem(SyncItem item) => Items.Enqueue(item);

        public void OnError(SyncException error) => Errors.Enqueue(error);

        public void OnWarning(string message)
        {
        }

        public Action<SyncProgress>? OnProgressHook { get; init; }

        public void OnProgress(SyncProgress progress) => OnProgressHook?.Invoke(progress);

        public bool ShouldProcess(SyncItem item) => true;
    }
}
