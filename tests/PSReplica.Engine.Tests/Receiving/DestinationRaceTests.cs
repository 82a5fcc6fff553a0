using System.Security.Cryptography;
using System.Text;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Receiving;

/// <summary>Issue 18 item 1: security invariant 2 (nothing passes through a symlink; CVE-2024-12747) on every path of the
/// receiver that opens, lists, links or deletes, locally and through the agent. The attacker is deterministic: the run
/// asks before each action (<see cref="ISyncObserver.ConfirmsEachAction"/>, so each action is done before the next
/// question), and just before the action under attack is carried out (after the scan that planned it) a directory it
/// works in is swapped for a link to an outside directory holding files of the same names, sizes and times. Whatever
/// the run then does (an item's error, a refused run), nothing outside may be created, changed, linked or removed, and
/// the outside content must not reach the replica. <c>SymlinkRaceTests</c> (Ssh.Tests) runs the concurrent races over
/// every wiring; <see cref="RaceUnderLoadTests"/> repeats these paths with a concurrent swapper under CPU load.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DestinationRaceTests : IDisposable
{
    /// <summary>Same length as <see cref="SourceContent"/>, different bytes: only the content tells them apart.</summary>
    internal const string OutsideContent = "OUTSIDE-SEC!";
    internal const string SourceContent = "new content!";
    internal const long Time = TestTree.BaseTime + 10;

    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    public enum RacePath
    {
        /// <summary>An update's pending file and its rename (the scan's directory became a link).</summary>
        Update,

        /// <summary>-Inplace: the file is opened for writing in its directory.</summary>
        Inplace,

        /// <summary>-Delete: the files of an extraneous directory are unlinked, then the directory.</summary>
        Delete,

        /// <summary>-Backup -BackupDirectory: the old file is moved (linked) into the backup tree.</summary>
        BackupDirectory,

        /// <summary>-Backup beside the file: the backup name in the file's own directory.</summary>
        BackupBeside,

        /// <summary>-LinkDest: a hard link to the basis directory's identical file.</summary>
        LinkDest,

        /// <summary>-CopyDest: a local copy of the basis directory's identical file.</summary>
        CopyDest,

        /// <summary>-PartialDirectory: the kept partial file is opened as the basis of a resume, then removed.</summary>
        PartialDirectory,

        /// <summary>-DelayUpdates: the burst renames the waiting files into place after every transfer.</summary>
        DelayUpdates,
    }

    public static TheoryData<RacePath, bool> Cases()
    {
        var data = new TheoryData<RacePath, bool>();
        foreach (RacePath path in Enum.GetValues<RacePath>())
        {
            data.Add(path, false);
            data.Add(path, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_directory_swapped_for_a_link_just_before_the_action_never_lets_the_run_reach_outside(RacePath path, bool throughAgent)
    {
        Race race = Race.Prepare(_tree, path);
        var observer = new SeamObserver(race.Seam, race.Attack);

        await RunAsync(_tree.Options(delete: path == RacePath.Delete) with
        {
            Inplace = path == RacePath.Inplace,
            Backup = path is RacePath.BackupDirectory or RacePath.BackupBeside,
            BackupDirectory = path == RacePath.BackupDirectory ? "../bak" : null,
            LinkDest = path == RacePath.LinkDest ? ["../day1"] : [],
            CopyDest = path == RacePath.CopyDest ? ["../day1"] : [],
            PartialDirectory = path == RacePath.PartialDirectory ? ".pd" : null,
            DelayUpdates = path == RacePath.DelayUpdates,
        }, observer, throughAgent);

        Assert.True(observer.Attacked, $"the run never asked about '{race.Seam}'");
        race.AssertOutsideUntouched();
    }

    /// <summary>-LinkDest of a symbolic link: the basis's link swapped for one pointing elsewhere between the plan and the
    /// link (a link's target cannot change in place) is not linked: the item fails and nothing is left at its name.</summary>
    [Fact]
    public void A_basis_symbolic_link_swapped_after_the_plan_is_not_linked()
    {
        string day1 = Path.Join(_tree.Root, "day1");
        Directory.CreateDirectory(day1);
        foreach (string root in new[] { day1, _tree.Source })
        {
            File.CreateSymbolicLink(Path.Join(root, "same"), "target");
            Assert.Equal(0, Posix.SetModificationTime(Path.Join(root, "same"), Time, 0));
        }

        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(_tree.Options() with { LinkDest = ["../day1"] }, observer, CancellationToken.None);
        Assert.Contains(plan.Actions, a => a.Item is { RelativePath: "same", Action: SyncAction.Link });
        File.Delete(Path.Join(day1, "same"));
        File.CreateSymbolicLink(Path.Join(day1, "same"), "/etc/passwd");
        Assert.Equal(0, Posix.SetModificationTime(Path.Join(day1, "same"), Time, 0));

        LocalReplicator.Execute(plan, observer, CancellationToken.None);

        Assert.Equal(ErrorIds.FileReadError, Assert.Single(observer.Errors).ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(_tree.Destination));
    }

    /// <summary>-RemoveSourceFiles verifies a local copy (or, with -CompareDest, the basis's file standing for it) through
    /// descriptors reached from its tree's root: a directory of copies swapped, after they were written, for a link to an
    /// outside directory holding identical files is not verified through the link, and the source stays.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_copy_behind_a_swapped_in_link_does_not_verify_its_source_for_removal(bool inBasis)
    {
        string outside = Path.Join(_tree.Root, "outside");
        TestTree.Write(_tree.Source, "sub/f.txt", SourceContent, Time);
        TestTree.Write(_tree.Source, "z.txt", "last", Time);
        TestTree.Write(outside, "f.txt", SourceContent, Time);
        string holder = inBasis ? Path.Join(_tree.Root, "day1") : _tree.Destination;
        if (inBasis)
        {
            TestTree.Write(holder, "sub/f.txt", SourceContent, Time);
        }

        // Before the last action (the copy is written by then): the directory goes aside and its copy is spoilt (same length
        // and time), and a link to identical outside files takes its place. Verified through the link, the source would go;
        // verified by the run's own handles, the spoilt copy (or, for a basis not yet opened, the link) keeps it.
        var observer = new SeamObserver("z.txt", () =>
        {
            string aside = Path.Join(_tree.Root, "moved-aside");
            Directory.Move(Path.Join(holder, "sub"), aside);
            TestTree.Write(aside, "f.txt", OutsideContent, Time);
            File.CreateSymbolicLink(Path.Join(holder, "sub"), outside);
        });
        SyncOptions options = _tree.Options() with { RemoveSourceFiles = true, CompareDest = inBasis ? ["../day1"] : [] };
        SyncPlan plan = LocalReplicator.Plan(options, observer, CancellationToken.None);
        LocalReplicator.Execute(plan, observer, CancellationToken.None);

        Assert.True(observer.Attacked);
        Assert.True(File.Exists(Path.Join(_tree.Source, "sub/f.txt")), "a source was removed on the word of a file outside");
        Assert.False(File.Exists(Path.Join(_tree.Source, "z.txt")));
        Assert.Equal(SourceContent, File.ReadAllText(Path.Join(outside, "f.txt")));
    }

    /// <summary>Runs locally or as a push to an in-process agent; a run the race refuses as a whole is one of its outcomes.</summary>
    internal static async Task RunAsync(SyncOptions options, ISyncObserver observer, bool throughAgent)
    {
        try
        {
            if (!throughAgent)
            {
                await Task.Run(() => LocalReplicator.Run(options, observer, CancellationToken.None));
                return;
            }

            await using Loopback loop = Loopback.WithAgent();
            await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Destination, options.Destination))
            {
                await Task.Run(() => replicator.Run(options, observer, CancellationToken.None));
            }

            await loop.FinishAsync();
        }
        catch (SyncException)
        {
            // Refused as a whole: the outside is checked all the same.
        }
    }

    /// <summary>One prepared race: the trees, the outside directory, the action under attack and the swap.</summary>
    internal sealed class Race
    {
        private readonly TestTree _tree;
        private readonly string _outside;
        private readonly string _victim;
        private readonly RacePath _path;
        private List<string>? _before;

        private Race(TestTree tree, RacePath path, string seam, string victim)
        {
            _tree = tree;
            _path = path;
            Seam = seam;
            _victim = victim;
            _outside = Path.Join(tree.Root, "outside");
        }

        /// <summary>The item whose confirmation triggers the swap.</summary>
        public string Seam { get; }

        /// <summary>The directory the attacker swaps for a link (full path).</summary>
        public string Victim => Path.GetFullPath(Path.Join(_tree.Destination, _victim));

        public string Outside => _outside;

        /// <summary>Records the outside as it is before a run that a concurrent swapper attacks.</summary>
        public void Snapshot() => _before = Describe(_outside);

        public static Race Prepare(TestTree tree, RacePath path)
        {
            string dst = tree.Destination;
            Write(tree.Source, "sub/f.txt", SourceContent, Time);
            Write(tree.Source, "sub/g.txt", SourceContent, Time);
            foreach (string name in new[] { "f.txt", "g.txt", "f.txt~" })
            {
                Write(Path.Join(tree.Root, "outside"), name, OutsideContent, Time);
            }

            Directory.CreateDirectory(dst);
            switch (path)
            {
                case RacePath.Update or RacePath.Inplace or RacePath.BackupBeside or RacePath.BackupDirectory:
                    Write(dst, "sub/f.txt", "old", TestTree.BaseTime);
                    Write(dst, "sub/g.txt", "old", TestTree.BaseTime);
                    if (path == RacePath.BackupDirectory)
                    {
                        Write(tree.Root, "bak/sub/keep.txt", "kept", TestTree.BaseTime);
                        return new Race(tree, path, "sub/f.txt", "../bak/sub");
                    }

                    return new Race(tree, path, "sub/f.txt", "sub");

                case RacePath.Delete:
                    Write(dst, "sub/f.txt", SourceContent, Time);
                    Write(dst, "sub/g.txt", SourceContent, Time);
                    Write(dst, "gone/f.txt", "extraneous", TestTree.BaseTime);
                    Write(dst, "gone/g.txt", "extraneous", TestTree.BaseTime);
                    return new Race(tree, path, "gone/f.txt", "gone");

                case RacePath.LinkDest or RacePath.CopyDest:
                    Write(tree.Root, "day1/sub/f.txt", SourceContent, Time);
                    Write(tree.Root, "day1/sub/g.txt", SourceContent, Time);
                    return new Race(tree, path, "sub/f.txt", "../day1/sub");

                case RacePath.PartialDirectory:
                    Write(dst, "sub/.pd/f.txt", SourceContent[..6], TestTree.BaseTime);
                    Write(dst, "sub/.pd/g.txt", SourceContent[..6], TestTree.BaseTime);
                    return new Race(tree, path, "sub/f.txt", "sub/.pd");

                default:
                    // -DelayUpdates: a later item gives the seam between the transfers and the burst.
                    Write(dst, "sub/f.txt", "old", TestTree.BaseTime);
                    Write(dst, "sub/g.txt", "old", TestTree.BaseTime);
                    Write(tree.Source, "zz.txt", "last", Time);
                    return new Race(tree, path, "zz.txt", "sub");
            }
        }

        /// <summary>The attacker's move, made once, from the run's thread, just before the action under attack.</summary>
        public void Attack()
        {
            string victim = Victim;
            if (_path == RacePath.DelayUpdates)
            {
                // The waiting files' names, planted outside too: a burst that followed the link would rename them over the
                // outside files.
                foreach (string waiting in Directory.EnumerateFiles(victim, ".~psr*"))
                {
                    Write(_outside, Path.GetFileName(waiting), "planted", TestTree.BaseTime);
                }
            }

            _before = Describe(_outside);
            Assert.Equal(0, Posix.Rename(victim, victim + ".moved"));
            File.CreateSymbolicLink(victim, _outside);
        }

        public void AssertOutsideUntouched()
        {
            Assert.NotNull(_before);
            List<string> after = Describe(_outside);
            Assert.True(_before.SequenceEqual(after), "the outside changed: " + string.Join("; ", after.Except(_before)) + " | was: "
                + string.Join("; ", _before.Except(after)));
            AssertNoOutsideContent(_tree.Destination);
        }

        /// <summary>No regular file of the replica (temp and partial files included) holds the outside's bytes; links
        /// (the attacker's among them) are neither read nor entered.</summary>
        private static void AssertNoOutsideContent(string replica)
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint };
            foreach (string file in Directory.EnumerateFileSystemEntries(replica, "*", options))
            {
                if (Posix.Stat(file, follow: false, out StatInfo info) == 0 && info.FileType == Posix.SIfreg)
                {
                    Assert.DoesNotContain(OutsideContent, File.ReadAllText(file), StringComparison.Ordinal);
                }
            }
        }
    }

    /// <summary>Every entry below <paramref name="root"/> (links not followed): name, type, mode, size, time, link count,
    /// inode and a content hash.</summary>
    internal static List<string> Describe(string root)
    {
        var lines = new List<string>();
        foreach (string path in TestTree.Walk(root))
        {
            Assert.Equal(0, Posix.Stat(path, follow: false, out StatInfo info));
            string content = info.FileType == Posix.SIfreg ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))) : string.Empty;
            lines.Add($"{Path.GetRelativePath(root, path)} {info.Mode:x} {info.Size} {info.MtimeSeconds}.{info.MtimeNanoseconds} n{info.Nlink} i{info.Inode} {content}");
        }

        Assert.Equal(0, Posix.Stat(root, follow: false, out StatInfo self));
        lines.Add($". {self.Mode:x} {self.MtimeSeconds}.{self.MtimeNanoseconds} n{self.Nlink}");
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    internal static void Write(string root, string relative, string content, long seconds)
    {
        string path = Path.Join(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content, Encoding.ASCII);
        Assert.Equal(0, Posix.Chmod(path, 0x1A4));
        TestTree.SetTime(path, seconds);
    }

    /// <summary>Confirms each action (so each is done before the next question) and calls the attack when asked about the seam.</summary>
    private sealed class SeamObserver(string seam, Action attack) : ISyncObserver
    {
        public bool Attacked { get; private set; }

        public bool ConfirmsEachAction => true;

        public void OnItem(SyncItem item)
        {
        }

        public void OnError(SyncException error)
        {
        }

        public void OnWarning(string message)
        {
        }

        public void OnProgress(SyncProgress progress)
        {
        }

        public bool ShouldProcess(SyncItem item)
        {
            if (!Attacked && item.RelativePath == seam)
            {
                Attacked = true;
                attack();
            }

            return true;
        }
    }
}
