using PSReplica.Engine.Planning;
using PSReplica.Engine.Watching;
using PSReplica.Engine.Tests;
using PSReplica.Engine.Tests.Metadata;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>One Sync-Directory parameter set of the matrix: the engine options the cmdlet would build for it on the
/// <see cref="ScenarioTree"/>, and what the local run must show for the option to have been exercised at all (so that
/// agreeing with the local run cannot mean agreeing on nothing).</summary>
internal sealed record OptionScenario(string Name, Func<ScenarioTree, SyncOptions> Options, Action<ScenarioTree, RecordingObserver> Expect)
{
    /// <summary>Per-item errors the local run is expected to report (ErrorId and path), beyond none.</summary>
    public IReadOnlyList<string> ExpectedErrors { get; init; } = [];

    /// <summary>-WhatIf: a dry run, which reports and changes nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>What the option needs in the tree beyond <see cref="ScenarioTree"/>, done to every copy of it (the
    /// reference and each wiring's) before anything is recorded.</summary>
    public Action<ScenarioTree>? Prepare { get; init; }

    /// <summary>The case keeps Windows' file attributes (-Preserve Attributes, -ArchiveOnly, -ResetArchive) in
    /// <see cref="OptionScenarios.Attributes"/>, installed around its preparation and every run of it, and compares them
    /// as part of the trees.</summary>
    public bool WindowsAttributes { get; init; }
}

/// <summary>The parameter sets the matrix runs, by name.</summary>
internal static class OptionScenarios
{
    /// <summary>Windows' file attributes of every copy of the tree (the store is keyed by full path), for the cases that
    /// keep them: the portable backend's test store, as FileAttributesTests use it.</summary>
    public static readonly FakeAttributeStore Attributes = new();

    public static readonly IReadOnlyList<OptionScenario> All =
    [
        new("Defaults", t => Base(t), (t, o) =>
        {
            Assert.Equal(File.ReadAllBytes(Src(t, "big.bin")), File.ReadAllBytes(Dst(t, "big.bin")));
            Assert.True(File.Exists(Dst(t, "extraneous.txt")));
            Assert.NotEqual(File.ReadAllBytes(Src(t, "same-size-same-time.txt")), File.ReadAllBytes(Dst(t, "same-size-same-time.txt")));
            Assert.Equal("subsecond\n", File.ReadAllText(Dst(t, "subsec.txt")));
            HasItem(o, "private.txt", SyncAction.Metadata);
            HasItem(o, "link-file", SyncAction.Create, SyncItemType.SymbolicLink);
            NoItem(o, "small.txt");
            NoItem(o, "subsec.txt");
            if (Posix.IsElevated)
            {
                StatInfo owned = TestTree.Stat(Dst(t, "owned.txt"));
                Assert.Equal((1234u, 2345u), (owned.Uid, owned.Gid));
                StatInfo link = TestTree.Stat(Dst(t, "owned-link"));
                Assert.Equal((1235u, 2346u), (link.Uid, link.Gid));
            }
        }),
        new("WhatIf_Delete", t => Base(t) with { Delete = true }, (t, o) =>
        {
            HasItem(o, "extraneous.txt", SyncAction.Delete);
            HasItem(o, "big.bin", SyncAction.Update);
            Assert.True(File.Exists(Dst(t, "extraneous.txt")));
            Assert.Equal(290_000, new FileInfo(Dst(t, "big.bin")).Length);
            Assert.False(File.Exists(Dst(t, "big2.bin")));
        })
        {
            DryRun = true,
        },
        new("Delete", t => Base(t) with { Delete = true }, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "extraneous.txt")));
            Assert.False(Directory.Exists(Dst(t, "extraneous-dir")));
            Assert.False(File.Exists(Dst(t, "dst-only.log")));
            HasItem(o, "stale-link", SyncAction.Delete, SyncItemType.SymbolicLink);
        }),
        new("Delete_ExcludedDirectoryInExtraneous", t => Base(t) with { Delete = true, Filter = Filter(b => b.AddExclude("keep/")) }, (t, o) =>
        {
            // A directory only the destination has, holding a directory the filter excludes (so protects): what it holds
            // besides is deleted, the excluded directory and so its parent are kept, as rsync --delete does.
            Assert.Equal("kept\n", File.ReadAllText(Dst(t, "left-over/keep/kept.txt")));
            Assert.False(File.Exists(Dst(t, "left-over/gone.txt")));
            Assert.False(Directory.Exists(Dst(t, "left-over/empty")));
            HasItem(o, "left-over/gone.txt", SyncAction.Delete);
            NoItem(o, "left-over");
            NoItem(o, "left-over/keep/kept.txt");
        })
        {
            Prepare = t =>
            {
                Bytes(t.Destination, "left-over/keep/kept.txt", "kept\n", ScenarioTree.T + 70);
                Bytes(t.Destination, "left-over/gone.txt", "gone\n", ScenarioTree.T + 71);
                Directory.CreateDirectory(Dst(t, "left-over/empty"));
                TestTree.SetTime(Dst(t, "left-over/keep"), ScenarioTree.T + 72, 0);
                TestTree.SetTime(Dst(t, "left-over/empty"), ScenarioTree.T + 72, 0);
                TestTree.SetTime(Dst(t, "left-over"), ScenarioTree.T + 73, 0);
            },
        },
        new("Delete_MaxDelete1", t => Base(t) with { Delete = true, MaxDelete = 1 }, (t, o) =>
            Assert.Single(o.Items, i => i.Action == SyncAction.Delete))
        {
            ExpectedErrors = [ErrorIds.MaxDeleteExceeded + " dst"],
        },
        new("DeleteExcluded_Exclude", t => Base(t) with { Delete = true, DeleteExcluded = true, Filter = Filter(b => b.AddExclude("*.log")) }, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "dst-only.log")));
            Assert.False(File.Exists(Dst(t, "excluded.log")));
            Assert.False(File.Exists(Dst(t, "extraneous.txt")));
        }),
        new("Exclude", t => Base(t) with { Filter = Filter(b => b.AddExclude("*.log").AddExclude("nested/")) }, (t, o) =>
        {
            Assert.Equal("the destination's older log\n", File.ReadAllText(Dst(t, "excluded.log")));
            Assert.Equal("deep, old\n", File.ReadAllText(Dst(t, "sub dir/nested/deep.txt")));
            Assert.True(File.Exists(Dst(t, "big2.bin")));
        }),
        new("Include_Exclude", t => Base(t) with { Filter = Filter(b => b.AddInclude("*/").AddInclude("*.txt").AddExclude("*")) }, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "big2.bin")));
            Assert.False(File.Exists(Dst(t, "link-file")));
            Assert.True(File.Exists(Dst(t, "sub dir/ünïcödé ✓.txt")));
            Assert.Equal("deep, new\n", File.ReadAllText(Dst(t, "sub dir/nested/deep.txt")));
        }),
        new("FilterRule_Delete", t => Base(t) with { Delete = true, Filter = Filter(b => b.AddRule("- *.bin").AddRule("P extraneous.txt")) }, (t, o) =>
        {
            Assert.True(File.Exists(Dst(t, "extraneous.txt")));
            Assert.False(Directory.Exists(Dst(t, "extraneous-dir")));
            Assert.False(File.Exists(Dst(t, "big2.bin")));
            Assert.Equal(290_000, new FileInfo(Dst(t, "big.bin")).Length);
        }),
        new("UseFilterFiles", t => Base(t) with { Filter = Filter(b => b.AddRule("dir-merge /.rsync-filter")) }, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "sub dir/exec.sh")));
            Assert.True(File.Exists(Dst(t, "sub dir/ünïcödé ✓.txt")));
        }),
        new("Checksum", t => Base(t) with { CompareMode = CompareMode.Checksum }, (t, o) =>
        {
            Assert.Equal(File.ReadAllBytes(Src(t, "same-size-same-time.txt")), File.ReadAllBytes(Dst(t, "same-size-same-time.txt")));
            NoItem(o, "small.txt");
        }),
        new("SizeOnly", t => Base(t) with { CompareMode = CompareMode.SizeOnly }, (t, o) =>
        {
            Assert.Equal("BBBBBBBB", File.ReadAllText(Dst(t, "one-sec.txt")));
            Assert.Equal(File.ReadAllBytes(Src(t, "big.bin")), File.ReadAllBytes(Dst(t, "big.bin")));
        }),
        new("IgnoreTimes", t => Base(t) with { CompareMode = CompareMode.IgnoreTimes }, (t, o) =>
        {
            HasItem(o, "small.txt", SyncAction.Update);
            Assert.Equal(File.ReadAllBytes(Src(t, "same-size-same-time.txt")), File.ReadAllBytes(Dst(t, "same-size-same-time.txt")));
        }),
        new("ModifyWindow1", t => Base(t) with { ModifyWindow = 1 }, (t, o) =>
        {
            Assert.Equal("BBBBBBBB", File.ReadAllText(Dst(t, "one-sec.txt")));
            HasItem(o, "touched.txt", SyncAction.Update);
        }),
        new("ModifyWindowMinus1", t => Base(t) with { ModifyWindow = -1 }, (t, o) =>
        {
            HasItem(o, "subsec.txt", SyncAction.Update);
            NoItem(o, "small.txt");
        }),
        new("IgnoreDaylightSavingShift", t => Base(t) with { IgnoreDaylightSavingShift = true }, (t, o) =>
        {
            // Exactly an hour apart counts as equal (FAT's local time after a daylight-saving change); half an hour does not.
            Assert.Equal("BBBBBBBB", File.ReadAllText(Dst(t, "dst-shift.txt")));
            NoItem(o, "dst-shift.txt");
            HasItem(o, "half-hour.txt", SyncAction.Update);
        })
        {
            Prepare = t =>
            {
                Bytes(t.Source, "dst-shift.txt", "AAAAAAAA", ScenarioTree.T + 40);
                Bytes(t.Destination, "dst-shift.txt", "BBBBBBBB", ScenarioTree.T + 40 + 3600);
                Bytes(t.Source, "half-hour.txt", "AAAAAAAA", ScenarioTree.T + 41);
                Bytes(t.Destination, "half-hour.txt", "BBBBBBBB", ScenarioTree.T + 41 + 1800);
                TestTree.SetTime(t.Source, ScenarioTree.T + 42, 0);
                TestTree.SetTime(t.Destination, ScenarioTree.T + 43, 0);
            },
        },
        new("Update", t => Base(t) with { Update = true }, (t, o) =>
        {
            Assert.Equal("the destination's newer one\n", File.ReadAllText(Dst(t, "newer-in-dst.txt")));
            HasItem(o, "touched.txt", SyncAction.Update);
        }),
        new("IgnoreExisting", t => Base(t) with { IgnoreExisting = true }, (t, o) =>
        {
            Assert.Equal(290_000, new FileInfo(Dst(t, "big.bin")).Length);
            Assert.True(File.Exists(Dst(t, "big2.bin")));
        }),
        // Without -Delete, a file where the source has a directory is kept, as rsync keeps it: nothing of the directory is
        // written, and one error says so.
        new("IgnoreExisting_FileWhereSourceHasDirectory", t => Base(t) with { IgnoreExisting = true }, (t, o) =>
        {
            Assert.Equal("a file where the source has a directory\n", File.ReadAllText(Dst(t, "became-dir")));
            NoItem(o, "became-dir");
            NoItem(o, "became-dir/child.txt");
            Assert.True(File.Exists(Dst(t, "big2.bin")));
        })
        {
            ExpectedErrors = [ErrorIds.ExistingItemKept + " became-dir"],
            Prepare = t =>
            {
                Bytes(t.Source, "became-dir/child.txt", "in the source's directory\n", ScenarioTree.T + 46);
                TestTree.SetTime(Src(t, "became-dir"), ScenarioTree.T + 47, 0);
                Bytes(t.Destination, "became-dir", "a file where the source has a directory\n", ScenarioTree.T + 46);
                TestTree.SetTime(t.Source, ScenarioTree.T + 48, 0);
                TestTree.SetTime(t.Destination, ScenarioTree.T + 49, 0);
            },
        },
        new("ExistingOnly", t => Base(t) with { ExistingOnly = true }, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "big2.bin")));
            Assert.False(File.Exists(Dst(t, "link-file")));
            Assert.Equal(File.ReadAllBytes(Src(t, "big.bin")), File.ReadAllBytes(Dst(t, "big.bin")));
        }),
        new("Preserve_NoTimes", t => Base(t) with { Preserve = SyncOptions.DefaultPreserve & ~PreserveOptions.Times }, (t, o) =>
            Assert.True(File.GetLastWriteTimeUtc(Dst(t, "big2.bin")) > DateTime.UtcNow.AddHours(-1))),
        new("Preserve_NoPermissions", t => Base(t) with { Preserve = SyncOptions.DefaultPreserve & ~PreserveOptions.Permissions }, (t, o) =>
        {
            Assert.Equal(0x1A4, TestTree.Stat(Dst(t, "private.txt")).Permissions);
            NoItem(o, "private.txt");
        }),
        // A new item keeps only its source's access bits less the umask, as rsync without -p: never the set-user-ID, set-group-ID
        // or sticky bit. The mode is worked out where the run is controlled (AttributePolicy, that process's umask) and set
        // exactly by whichever side writes, so every wiring of this one process gives the same.
        new("Preserve_NoPermissions_SpecialBits", t => Base(t) with { Preserve = SyncOptions.DefaultPreserve & ~PreserveOptions.Permissions }, (t, o) =>
        {
            Assert.Equal((0xFFF, 0xFFF), (TestTree.Stat(Src(t, "setid-all.sh")).Permissions, TestTree.Stat(Src(t, "setid-dir")).Permissions));
            Assert.Equal(0x1FF & ~Posix.Umask, TestTree.Stat(Dst(t, "setid-all.sh")).Permissions);
            Assert.Equal(0x1FF & ~Posix.Umask, TestTree.Stat(Dst(t, "setid-dir")).Permissions);
            HasItem(o, "setid-all.sh", SyncAction.Create);
            HasItem(o, "setid-dir", SyncAction.Create, SyncItemType.Directory);
        })
        {
            Prepare = t =>
            {
                Bytes(t.Source, "setid-all.sh", "#!/bin/sh\necho set-id\n", ScenarioTree.T + 46);
                Assert.Equal(0, Posix.Chmod(Src(t, "setid-all.sh"), 0xFFF));
                Bytes(t.Source, "setid-dir/inner.txt", "inner\n", ScenarioTree.T + 47);
                Assert.Equal(0, Posix.Chmod(Src(t, "setid-dir"), 0xFFF));
                TestTree.SetTime(Src(t, "setid-dir"), ScenarioTree.T + 48, 0);
                TestTree.SetTime(t.Source, ScenarioTree.T + 49, 0);
            },
        },
        new("Preserve_HardLinks", t => Base(t) with { Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks }, (t, o) =>
            Assert.Equal(TestTree.Stat(Dst(t, "hl-a")).Inode, TestTree.Stat(Dst(t, "hl-b")).Inode)),
        // rsync -bH: a destination file that a name of its group replaces (a hard link to the group's first name) is
        // backed up first, as any replaced file; it was lost.
        new("Backup_HardLinks_ReplacedFile", t => WithBackups(Base(t) with { Preserve = SyncOptions.DefaultPreserve | PreserveOptions.HardLinks }, directory: null), (t, o) =>
        {
            Assert.Equal(TestTree.Stat(Dst(t, "grp-a")).Inode, TestTree.Stat(Dst(t, "grp-z")).Inode);
            Assert.Equal("shared\n", File.ReadAllText(Dst(t, "grp-z")));
            Assert.Equal("precious old z\n", File.ReadAllText(Dst(t, "grp-z~")));
        })
        {
            Prepare = t =>
            {
                Bytes(t.Source, "grp-a", "shared\n", ScenarioTree.T + 80);
                TestTree.Run("ln", "--", Src(t, "grp-a"), Src(t, "grp-z"));
                Bytes(t.Destination, "grp-a", "shared\n", ScenarioTree.T + 80);
                Bytes(t.Destination, "grp-z", "precious old z\n", ScenarioTree.T + 10);
            },
        },
        new("CopyLinks", t => Base(t) with { CopyLinks = true }, (t, o) =>
        {
            Assert.Equal("hello\n", File.ReadAllText(Dst(t, "link-file")));
            Assert.Null(new FileInfo(Dst(t, "link-file")).LinkTarget);
            Assert.True(File.Exists(Dst(t, "link-dir/nested/deep.txt")));
            Assert.Null(new DirectoryInfo(Dst(t, "link-dir")).LinkTarget);
        })
        {
            // rsync -L: a link with nothing behind it cannot be copied as what it points to.
            ExpectedErrors = [ErrorIds.SymbolicLinkNoReferent + " dangling"],
        },
        new("MinSize", t => Base(t) with { MinSize = 1024 }, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "-dash file.txt")));
            Assert.True(File.Exists(Dst(t, "big2.bin")));
        }),
        new("MaxSize", t => Base(t) with { MaxSize = 64 * 1024 }, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "big2.bin")));
            Assert.True(File.Exists(Dst(t, "medium.dat")));
        }),
        new("FilesFrom", FilesFrom, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "big2.bin")));
            Assert.Equal(File.ReadAllBytes(Src(t, "big.bin")), File.ReadAllBytes(Dst(t, "big.bin")));
            Assert.Equal("deep, new\n", File.ReadAllText(Dst(t, "sub dir/nested/deep.txt")));
            Assert.False(File.Exists(Dst(t, "sub dir/exec.sh")));
            Assert.True(File.Exists(Dst(t, "extraneous.txt")));
        }),
        // -FilesFrom beside the user's include rules, into a destination root not made yet: a rule of the user's adds nothing
        // unlisted (neither a file nor what a listed directory holds); a listed name the source lacks is one error, and the
        // rest is sent; the root is made as rsync makes it, with none of the source root's mode or time.
        new("FilesFrom_Include_MissingPath", t => OptionNormalizer.ApplyFilesFrom(
            Base(t) with { Filter = Filter(b => b.AddInclude("big2.bin").AddInclude("f.txt")) }, SelectionList(t), []), (t, o) =>
        {
            Assert.Equal(File.ReadAllBytes(Src(t, "medium.dat")), File.ReadAllBytes(Dst(t, "medium.dat")));
            Assert.Equal(0x1ED, TestTree.Stat(Dst(t, "sub dir/exec.sh")).Permissions);
            Assert.Empty(Directory.EnumerateFileSystemEntries(Dst(t, "dir-mode")));
            HasItem(o, "dir-mode", SyncAction.Create, SyncItemType.Directory);
            Assert.False(File.Exists(Dst(t, "big2.bin")));
            Assert.False(File.Exists(Dst(t, "small.txt")));
            NoItem(o, "big2.bin");
            NoItem(o, "dir-mode/f.txt");
            StatInfo root = TestTree.Stat(t.Destination);
            Assert.Equal((0x5E8, 0x1FF & ~Posix.Umask), (TestTree.Stat(t.Source).Permissions, root.Permissions));
            Assert.True(File.GetLastWriteTimeUtc(t.Destination) > DateTime.UtcNow.AddHours(-1));
        })
        {
            ExpectedErrors = [ErrorIds.FilesFromPathMissing + " not-in-source.txt"],
            Prepare = t =>
            {
                File.WriteAllText(SelectionList(t), SelectionListText);
                Assert.Equal(0, Posix.Chmod(t.Source, 0x5E8));
                Directory.Delete(t.Destination, recursive: true);
            },
        },
        new("LinkDest", t => Base(t) with { LinkDest = ["../basis"] }, (t, o) =>
        {
            Assert.Equal(TestTree.Stat(Path.Join(t.Basis, "basis-same.txt")).Inode, TestTree.Stat(Dst(t, "basis-same.txt")).Inode);
            HasItem(o, "basis-same.txt", SyncAction.Link, SyncItemType.HardLink);
            Assert.Equal(File.ReadAllBytes(Src(t, "basis-changed.bin")), File.ReadAllBytes(Dst(t, "basis-changed.bin")));
        }),
        // A symbolic link the basis holds unchanged (target, time, owner) is hard-linked, as rsync's try_dests_non does; one
        // whose target changed is made anew.
        new("LinkDest_SymbolicLink", t => Base(t) with { LinkDest = ["../basis"] }, (t, o) =>
        {
            StatInfo linked = TestTree.Stat(Dst(t, "link-file"));
            Assert.Equal((TestTree.Stat(Path.Join(t.Basis, "link-file")).Inode, 2u), (linked.Inode, linked.Nlink));
            HasItem(o, "link-file", SyncAction.Link, SyncItemType.HardLink);
            Assert.Equal("sub dir", new FileInfo(Dst(t, "link-dir")).LinkTarget);
            Assert.Equal(1u, TestTree.Stat(Dst(t, "link-dir")).Nlink);
            HasItem(o, "link-dir", SyncAction.Create, SyncItemType.SymbolicLink);
        })
        {
            Prepare = t =>
            {
                File.CreateSymbolicLink(Path.Join(t.Basis, "link-file"), "small.txt");
                File.CreateSymbolicLink(Path.Join(t.Basis, "link-dir"), "another dir");
                Assert.Equal(0, Posix.SetModificationTime(Path.Join(t.Basis, "link-file"), ScenarioTree.T + 21, 210));
                Assert.Equal(0, Posix.SetModificationTime(Path.Join(t.Basis, "link-dir"), ScenarioTree.T + 21, 210));
                TestTree.SetTime(t.Basis, ScenarioTree.T + 26, 0);
            },
        },
        // -Checksum passes a basis file of another time on its content; linked, the new copy would have the old time (and a
        // later run that set the time would set it through the link, in the old snapshot too). As rsync, only a file of
        // equal time is linked; the other is copied. A push through the agent refuses it: the agent's basis listing carries
        // no content hashes (hashing a local file of the same path instead linked the basis's old content).
        new("LinkDest_Checksum", t => Base(t) with { LinkDest = ["../basis"], CompareMode = CompareMode.Checksum }, (t, o) =>
        {
            StatInfo linked = TestTree.Stat(Dst(t, "basis-same.txt"));
            Assert.Equal((TestTree.Stat(Path.Join(t.Basis, "basis-same.txt")).Inode, 2u), (linked.Inode, linked.Nlink));
            HasItem(o, "basis-same.txt", SyncAction.Link, SyncItemType.HardLink);
            StatInfo copied = TestTree.Stat(Dst(t, "basis-other-time.txt"));
            StatInfo basis = TestTree.Stat(Path.Join(t.Basis, "basis-other-time.txt"));
            Assert.NotEqual(basis.Inode, copied.Inode);
            Assert.Equal((1u, 1u), (copied.Nlink, basis.Nlink));
            Assert.Equal((ScenarioTree.T + 24, ScenarioTree.T + 19), (copied.MtimeSeconds, basis.MtimeSeconds));
            Assert.Equal(File.ReadAllBytes(Src(t, "basis-other-time.txt")), File.ReadAllBytes(Dst(t, "basis-other-time.txt")));
            HasItem(o, "basis-other-time.txt", SyncAction.Create);
        })
        {
            Prepare = t =>
            {
                Bytes(t.Source, "basis-other-time.txt", "equal content, another time\n", ScenarioTree.T + 24);
                Bytes(t.Basis, "basis-other-time.txt", "equal content, another time\n", ScenarioTree.T + 19);
                TestTree.SetTime(t.Source, ScenarioTree.T + 25, 0);
                TestTree.SetTime(t.Basis, ScenarioTree.T + 26, 0);
            },
        },
        // A snapshot made again over an older one: the destination's stale copy of a file the basis holds exactly becomes a
        // link to the basis's (rsync's try_dests_reg for an existing file), or a local copy of it with -CopyDest.
        new("LinkDest_StaleDestinationFile", t => Base(t) with { LinkDest = ["../basis"] }, (t, o) =>
        {
            StatInfo linked = TestTree.Stat(Dst(t, "stale-in-dest.txt"));
            Assert.Equal((TestTree.Stat(Path.Join(t.Basis, "stale-in-dest.txt")).Inode, 2u), (linked.Inode, linked.Nlink));
            HasItem(o, "stale-in-dest.txt", SyncAction.Update, SyncItemType.HardLink);
        })
        {
            Prepare = PrepareStaleDestinationFile,
        },
        // rsync looks in the basis before the quick check: an up-to-date copy the basis holds exactly becomes a link to it
        // too (and a re-run leaves it: it already is that file).
        new("LinkDest_CurrentDestinationFile", t => Base(t) with { LinkDest = ["../basis"] }, (t, o) =>
        {
            StatInfo linked = TestTree.Stat(Dst(t, "stale-in-dest.txt"));
            Assert.Equal((TestTree.Stat(Path.Join(t.Basis, "stale-in-dest.txt")).Inode, 2u), (linked.Inode, linked.Nlink));
            SyncItem item = Assert.Single(o.Items, i => i.RelativePath == "stale-in-dest.txt");
            Assert.Equal((SyncAction.Update, SyncItemType.HardLink, SyncReason.InBasisDirectory), (item.Action, item.ItemType, item.Reason));
        })
        {
            Prepare = t =>
            {
                PrepareStaleDestinationFile(t);
                Bytes(t.Destination, "stale-in-dest.txt", "same in source and basis\n", ScenarioTree.T + 27);
                TestTree.SetTime(t.Destination, ScenarioTree.T + 26, 0);
            },
        },
        new("CopyDest_StaleDestinationFile", t => Base(t) with { CopyDest = ["../basis"] }, (t, o) =>
        {
            Assert.Equal("same in source and basis\n", File.ReadAllText(Dst(t, "stale-in-dest.txt")));
            Assert.Equal(1u, TestTree.Stat(Dst(t, "stale-in-dest.txt")).Nlink);
            HasItem(o, "stale-in-dest.txt", SyncAction.Update);
        })
        {
            Prepare = PrepareStaleDestinationFile,
        },
        new("CompareDest", t => Base(t) with { CompareDest = ["../basis"] }, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "basis-same.txt")));
            Assert.True(File.Exists(Dst(t, "basis-changed.bin")));
        }),
        // The destination holds only what differs from the basis: its stale copy of a file the basis holds exactly goes, as
        // rsync --compare-dest unlinks it; the source stays.
        new("CompareDest_StaleDestinationFile", t => Base(t) with { CompareDest = ["../basis"] }, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "stale-in-dest.txt")));
            Assert.True(File.Exists(Src(t, "stale-in-dest.txt")));
            SyncItem deleted = Assert.Single(o.Items, i => i.RelativePath == "stale-in-dest.txt");
            Assert.Equal((SyncAction.Delete, SyncReason.InBasisDirectory), (deleted.Action, deleted.Reason));
        })
        {
            Prepare = PrepareStaleDestinationFile,
        },
        // rsync removes a source file the basis holds (it is "up to date" there): verified against the basis's file, the
        // agent's on a push. The destination's stale copy goes too.
        new("CompareDest_RemoveSourceFiles", t => Base(t) with { CompareDest = ["../basis"], RemoveSourceFiles = true }, (t, o) =>
        {
            Assert.False(File.Exists(Src(t, "basis-same.txt")));
            Assert.False(File.Exists(Dst(t, "basis-same.txt")));
            Assert.False(File.Exists(Src(t, "stale-in-dest.txt")));
            Assert.False(File.Exists(Dst(t, "stale-in-dest.txt")));
            Assert.True(File.Exists(Path.Join(t.Basis, "stale-in-dest.txt")));
        })
        {
            Prepare = PrepareStaleDestinationFile,
        },
        // A basis directory that is a link inside the basis is not followed on any wiring (walks follow no link,
        // CVE-2024-12086): the file below it is sent, not linked from there (a pull planned the link and then failed).
        new("LinkDest_LinkedBasisDirectory", t => Base(t) with { LinkDest = ["../basis"] }, (t, o) =>
        {
            Assert.Equal(1u, TestTree.Stat(Path.Join(t.Root, "elsewhere/sub dir/nested/deep.txt")).Nlink);
            Assert.Equal("deep, new\n", File.ReadAllText(Dst(t, "sub dir/nested/deep.txt")));
            HasItem(o, "sub dir/nested/deep.txt", SyncAction.Update, SyncItemType.File);
        })
        {
            Prepare = t =>
            {
                // The source's file exactly (its time to the nanosecond), so that only the link on the way keeps it out.
                Bytes(Path.Join(t.Root, "elsewhere"), "sub dir/nested/deep.txt", "deep, new\n", ScenarioTree.T + 18);
                TestTree.SetTime(Path.Join(t.Root, "elsewhere/sub dir/nested/deep.txt"), ScenarioTree.T + 18, 180);
                File.CreateSymbolicLink(Path.Join(t.Basis, "sub dir"), "../elsewhere/sub dir");
                TestTree.SetTime(t.Basis, ScenarioTree.T + 26, 0);
            },
        },
        // Where an item of another type stands, a link the basis holds unchanged is made (rsync looks in the basis only
        // where nothing stands); -CompareDest used to delete the item and make nothing.
        new("CompareDest_SymbolicLinkOverFile", t => Base(t) with { CompareDest = ["../basis"] }, (t, o) =>
        {
            Assert.Equal("small.txt", new FileInfo(Dst(t, "link-file")).LinkTarget);
            HasItem(o, "link-file", SyncAction.Create, SyncItemType.SymbolicLink);
        })
        {
            Prepare = t =>
            {
                File.CreateSymbolicLink(Path.Join(t.Basis, "link-file"), "small.txt");
                Assert.Equal(0, Posix.SetModificationTime(Path.Join(t.Basis, "link-file"), ScenarioTree.T + 21, 210));
                Bytes(t.Destination, "link-file", "a file in the way\n", ScenarioTree.T - 5);
                TestTree.SetTime(t.Basis, ScenarioTree.T + 26, 0);
                TestTree.SetTime(t.Destination, ScenarioTree.T + 26, 0);
            },
        },
        new("CopyDest", t => Base(t) with { CopyDest = ["../basis"] }, (t, o) =>
        {
            Assert.Equal("in the basis too\n", File.ReadAllText(Dst(t, "basis-same.txt")));
            Assert.NotEqual(TestTree.Stat(Path.Join(t.Basis, "basis-same.txt")).Inode, TestTree.Stat(Dst(t, "basis-same.txt")).Inode);
        }),
        new("RemoveSourceFiles", t => Base(t) with { RemoveSourceFiles = true }, (t, o) =>
        {
            Assert.False(File.Exists(Src(t, "big2.bin")));
            Assert.False(File.Exists(Src(t, "small.txt")));
            Assert.True(Directory.Exists(Src(t, "sub dir/nested")));
            Assert.Equal(100_000, File.ReadAllBytes(Dst(t, "big2.bin")).Length);
        }),
        new("Backup", t => WithBackups(Base(t), directory: null), (t, o) =>
        {
            Assert.Equal(290_000, new FileInfo(Dst(t, "big.bin~")).Length);
            Assert.Equal("deep, old\n", File.ReadAllText(Dst(t, "sub dir/nested/deep.txt~")));
        }),
        new("Backup_Delete", t => WithBackups(Base(t) with { Delete = true }, directory: null), (t, o) =>
        {
            Assert.Equal("only in the destination\n", File.ReadAllText(Dst(t, "extraneous.txt~")));
            Assert.False(File.Exists(Dst(t, "extraneous.txt")));
        }),
        new("Backup_BackupSuffix", t => WithBackups(Base(t), directory: null, suffix: ".bak"), (t, o) =>
        {
            Assert.Equal(290_000, new FileInfo(Dst(t, "big.bin.bak")).Length);
            Assert.False(File.Exists(Dst(t, "big.bin~")));
        }),
        new("Backup_BackupDirectory", t => WithBackups(Base(t), directory: "backups"), (t, o) =>
        {
            Assert.Equal(290_000, new FileInfo(Dst(t, "backups/big.bin")).Length);
            Assert.False(File.Exists(Dst(t, "big.bin~")));
        }),
        // rsync makes a backup directory's subdirectories with the mode (and, as root, the owner) of the destination's
        // directories they stand for, not 0755 root.
        new("Backup_BackupDirectory_DirectoryModes", t => WithBackups(Base(t), directory: "backups"), (t, o) =>
        {
            Assert.Equal("deep, old\n", File.ReadAllText(Dst(t, "backups/sub dir/nested/deep.txt")));
            StatInfo nested = TestTree.Stat(Dst(t, "backups/sub dir/nested"));
            Assert.Equal(0x1E8, nested.Mode & 0xFFF);
            if (Posix.IsElevated)
            {
                Assert.Equal((1234u, 2345u), (nested.Uid, nested.Gid));
            }
        })
        {
            Prepare = t =>
            {
                foreach (string root in new[] { t.Source, t.Destination })
                {
                    string nested = Path.Join(root, "sub dir/nested");
                    if (Posix.IsElevated)
                    {
                        Assert.Equal(0, Posix.Lchown(nested, 1234, 2345));
                    }

                    Assert.Equal(0, Posix.Chmod(nested, 0x1E8));
                }
            },
        },
        new("Partial", t => Base(t) with { Partial = true }, Converged),
        new("PartialDirectory", t => Base(t) with { PartialDirectory = ".partial" }, Converged),
        new("DelayUpdates", t => Base(t) with { DelayUpdates = true }, Converged),
        new("Inplace", t => Base(t) with { Inplace = true }, (t, o) =>
        {
            Converged(t, o);
            HasItem(o, "big.bin", SyncAction.Update);
        }),
        // A new sparse file and a delta update of one whose old copy holds written zeros: content and items as the local
        // run's on every wiring that takes -Sparse (an SFTP push refuses it); that the holes are there is checked for the
        // local run here and for the agent's wirings in RemoteSparseTests.
        new("Sparse", t => Base(t) with { Sparse = true }, (t, o) =>
        {
            Converged(t, o);
            foreach (string name in new[] { "sparse.img", "sparse-new.img" })
            {
                Assert.True(SparseFile.SameContent(Src(t, name), Dst(t, name)), name);
                Assert.True(SparseFile.Allocated(Dst(t, name)) < 1 << 20, $"{name}: {SparseFile.Allocated(Dst(t, name))} bytes allocated");
            }

            HasItem(o, "sparse.img", SyncAction.Update);
            HasItem(o, "sparse-new.img", SyncAction.Create);
        })
        {
            Prepare = t =>
            {
                SparseFile.Create(Src(t, "sparse.img"), 32L << 20, (0, 8192, 1), ((16L << 20) + 100, 4096, 2));
                SparseFile.Create(Dst(t, "sparse.img"), 32L << 20, ((8L << 20), 2 << 20, 0), (0, 8192, 1), ((16L << 20) + 100, 4096, 3));
                SparseFile.Create(Src(t, "sparse-new.img"), 24L << 20, ((20L << 20), 4096, 4));
                TestTree.SetTime(Src(t, "sparse.img"), ScenarioTree.T + 44, 0);
                TestTree.SetTime(Dst(t, "sparse.img"), ScenarioTree.T + 45, 0);
                TestTree.SetTime(Src(t, "sparse-new.img"), ScenarioTree.T + 44, 0);
                TestTree.SetTime(t.Source, ScenarioTree.T + 42, 0);
                TestTree.SetTime(t.Destination, ScenarioTree.T + 43, 0);
            },
        },
        new("TransferMode_WholeFile", t => Base(t) with { TransferMode = TransferMode.WholeFile }, (t, o) =>
        {
            Converged(t, o);
            Assert.Equal(0, Assert.Single(o.Items, i => i.RelativePath == "big.bin").BytesMatched);
        }),
        new("TransferMode_Delta", t => Base(t) with { TransferMode = TransferMode.Delta }, (t, o) =>
        {
            Converged(t, o);
            Assert.True(Assert.Single(o.Items, i => i.RelativePath == "big.bin").BytesMatched > 200_000);
        }),
        new("BlockSize", t => Base(t) with { BlockSize = 2048 }, Converged),
        // Cutoffs clear of the whole seconds SFTP carries, so that its listing selects the same files.
        new("MaxAge", t => Base(t) with { MaxAgeCutoff = At(ScenarioTree.T + 10) }, (t, o) =>
        {
            Assert.Equal(290_000, new FileInfo(Dst(t, "big.bin")).Length);
            Assert.False(File.Exists(Dst(t, "big2.bin")));
            Assert.False(File.Exists(Dst(t, "medium.dat")));
            Assert.True(File.Exists(Dst(t, "-dash file.txt")));
            Assert.Equal("deep, new\n", File.ReadAllText(Dst(t, "sub dir/nested/deep.txt")));
            NoItem(o, "touched.txt");
            HasItem(o, "link-file", SyncAction.Create, SyncItemType.SymbolicLink);
        }),
        new("MinAge_Delete", t => Base(t) with { MinAgeCutoff = At(ScenarioTree.T + 9, 950_000_000), Delete = true }, (t, o) =>
        {
            Assert.True(File.Exists(Dst(t, "big2.bin")));
            Assert.True(File.Exists(Dst(t, "medium.dat")));
            Assert.False(File.Exists(Dst(t, "empty.txt")));
            // Left out by age, so neither updated nor deleted; what the source lacks still goes.
            Assert.Equal("deep, old\n", File.ReadAllText(Dst(t, "sub dir/nested/deep.txt")));
            Assert.False(File.Exists(Dst(t, "extraneous.txt")));
        }),
        new("PruneEmptyDirectories", t => Base(t) with
        {
            PruneEmptyDirectories = true,
            Filter = Filter(b => b.AddExclude("*.log").AddExclude("*.bin").AddExclude("deep.txt")),
        }, (t, o) =>
        {
            Assert.False(Directory.Exists(Dst(t, "only-logs")));
            // Pruned: an existing copy is left as it is (without pruning its time would be set).
            NoItem(o, "sub dir/nested");
            Assert.Equal("deep, old\n", File.ReadAllText(Dst(t, "sub dir/nested/deep.txt")));
            HasItem(o, "sub dir/exec.sh", SyncAction.Create);
        })
        {
            Prepare = t =>
            {
                Bytes(t.Source, "only-logs/deeper/run.log", "a log\n", ScenarioTree.T + 30);
                TestTree.SetTime(Path.Join(t.Source, "only-logs/deeper"), ScenarioTree.T + 31, 0);
                TestTree.SetTime(Path.Join(t.Source, "only-logs"), ScenarioTree.T + 32, 0);
                TestTree.SetTime(t.Source, ScenarioTree.T + 33, 0);
            },
        },
        // A -Watch batch (issue 17): the tree mirrored by a first full run, then a batch of changes planned alone (the
        // scope a watcher's notifications make), with a file written during the copy never put in place. Only what the
        // batch names is planned: an extraneous file outside it stays, as it would until a rescan.
        new("Watch_Batch", t => Base(t) with { Delete = true, Scope = WatchBatch, SourceMustRest = true }, (t, o) =>
        {
            Assert.Equal("hello, watched\n", File.ReadAllText(Dst(t, "small.txt")));
            Assert.Equal("new in a new directory\n", File.ReadAllText(Dst(t, "watched/deeper/new.txt")));
            Assert.False(File.Exists(Dst(t, "sub dir/exec.sh")));
            Assert.True(File.Exists(Dst(t, "left-outside.txt")));
            HasItem(o, "watched/deeper/new.txt", SyncAction.Create);
            HasItem(o, "sub dir/exec.sh", SyncAction.Delete);
            NoItem(o, "left-outside.txt");
            NoItem(o, "touched.txt");
        })
        {
            Prepare = t =>
            {
                var first = new RecordingObserver();
                LocalReplicator.Run(Base(t) with { Delete = true }, first, CancellationToken.None);
                Bytes(t.Destination, "left-outside.txt", "not in the batch\n", ScenarioTree.T + 40);
                (long root, long sub) = (TestTree.Stat(t.Source).MtimeSeconds, TestTree.Stat(Src(t, "sub dir")).MtimeSeconds);
                Bytes(t.Source, "small.txt", "hello, watched\n", ScenarioTree.T + 41);
                Bytes(t.Source, "watched/deeper/new.txt", "new in a new directory\n", ScenarioTree.T + 42);
                TestTree.SetTime(Src(t, "watched/deeper"), ScenarioTree.T + 43, 0);
                TestTree.SetTime(Src(t, "watched"), ScenarioTree.T + 44, 0);
                File.Delete(Src(t, "sub dir/exec.sh"));
                TestTree.SetTime(Src(t, "sub dir"), sub, 0);
                TestTree.SetTime(t.Source, root, 0);
                TestTree.SetTime(t.Destination, ScenarioTree.T + 45, 0);
            },
        },
        new("OneFileSystem_CopyLinks", t => Base(t) with { OneFileSystem = true, CopyLinks = true }, (t, o) =>
        {
            // A link to a directory on another file system is a mount point to rsync -xL: created empty, not entered.
            Assert.True(Directory.Exists(Dst(t, "other-fs")));
            Assert.Empty(Directory.EnumerateFileSystemEntries(Dst(t, "other-fs")));
            Assert.Equal("deep, new\n", File.ReadAllText(Dst(t, "link-dir/nested/deep.txt")));
        })
        {
            ExpectedErrors = [ErrorIds.SymbolicLinkNoReferent + " dangling"],
            Prepare = t =>
            {
                string link = Path.Join(t.Source, "other-fs");
                File.CreateSymbolicLink(link, OtherFileSystem.Shared.Path);
                Assert.Equal(0, Posix.SetModificationTime(link, ScenarioTree.T + 34, 0));
                TestTree.SetTime(t.Source, ScenarioTree.T + 35, 0);
            },
        },
        new("OneFileSystem_Delete", t => Base(t) with { OneFileSystem = true, Delete = true }, (t, o) =>
        {
            Assert.False(File.Exists(Dst(t, "extraneous.txt")));
            Assert.Equal(File.ReadAllBytes(Src(t, "big.bin")), File.ReadAllBytes(Dst(t, "big.bin")));
        }),
        new("Preserve_AclsExtendedAttributes", t => Base(t) with
        {
            Preserve = SyncOptions.DefaultPreserve | PreserveOptions.Permissions | PreserveOptions.Acls | PreserveOptions.ExtendedAttributes,
        }, (t, o) =>
        {
            Assert.Equal(".f........x", Assert.Single(o.Items, i => i.RelativePath == "small.txt").Itemize);
            Assert.Equal(".f........x", Assert.Single(o.Items, i => i.RelativePath == "subsec.txt").Itemize);
            Assert.Contains("user.small=0x01ff00", TestTree.Run("getfattr", "-e", "hex", "-n", "user.small", Dst(t, "small.txt")), StringComparison.Ordinal);
            Assert.Empty(TestTree.Run("getfattr", "-d", "-m", "^user\\.", Dst(t, "subsec.txt")).Trim());
            Assert.Contains("default:user:nobody:r-x", TestTree.Run("getfacl", "-c", Dst(t, "sub dir")), StringComparison.Ordinal);
            Assert.Contains("user:nobody:rw-", TestTree.Run("getfacl", "-c", Dst(t, "big.bin")), StringComparison.Ordinal);
        })
        {
            Prepare = t =>
            {
                TestTree.Run("setfattr", "-n", "user.small", "-v", "0x01ff00", Src(t, "small.txt"));
                TestTree.Run("setfattr", "-n", "user.empty", "-v", "0x", Src(t, "big.bin"));
                TestTree.Run("setfacl", "-m", "u:nobody:rw", Src(t, "big.bin"));
                TestTree.Run("setfacl", "-d", "-m", "u:nobody:rx", Src(t, "sub dir"));
                TestTree.Run("setfattr", "-n", "user.stale", "-v", "0x01", Dst(t, "subsec.txt"));
            },
        },
        new("Preserve_DevicesSpecials", t => Base(t) with { Delete = true, Preserve = SyncOptions.DefaultPreserve | PreserveOptions.Devices | PreserveOptions.Specials }, (t, o) =>
        {
            Assert.Equal(Posix.SIfifo, TestTree.Stat(Dst(t, "nodes/pipe")).FileType);
            Assert.Equal(Posix.SIfsock, TestTree.Stat(Dst(t, "nodes/sock")).FileType);
            Assert.Equal(SpecialFiles.NullDevice, TestTree.Stat(Dst(t, "nodes/null")).Rdev);
            Assert.Equal((Posix.SIfblk, SpecialFiles.LoopDevice), (TestTree.Stat(Dst(t, "nodes/loop")).FileType, TestTree.Stat(Dst(t, "nodes/loop")).Rdev));
            Assert.Equal(SpecialFiles.NullDevice, TestTree.Stat(Dst(t, "nodes/renumbered")).Rdev);
            Assert.Equal(Posix.SIfifo, TestTree.Stat(Dst(t, "nodes/was-file")).FileType);
            Assert.False(Path.Exists(Dst(t, "nodes/extraneous")));
            HasItem(o, "nodes/pipe", SyncAction.Create, SyncItemType.Fifo);
            HasItem(o, "nodes/loop", SyncAction.Create, SyncItemType.BlockDevice);
            HasItem(o, "nodes/renumbered", SyncAction.Update, SyncItemType.CharacterDevice);
            HasItem(o, "nodes/extraneous", SyncAction.Delete, SyncItemType.Fifo);
        })
        {
            Prepare = t =>
            {
                long time = ScenarioTree.T + 50;
                SourceNodes(t, time);
                SpecialFiles.Device(Src(t, "nodes/loop"), block: true, SpecialFiles.LoopDevice, 0x180, time + 3);
                SpecialFiles.Device(Src(t, "nodes/renumbered"), block: false, SpecialFiles.NullDevice, 0x1B6, time + 4);
                SpecialFiles.Fifo(Src(t, "nodes/was-file"), 0x1A4, time + 5);
                SpecialFiles.Device(Dst(t, "nodes/renumbered"), block: false, SpecialFiles.ZeroDevice, 0x1B6, time + 4);
                Bytes(t.Destination, "nodes/was-file", "a file where a FIFO goes\n", time + 5);
                SpecialFiles.Fifo(Dst(t, "nodes/extraneous"), 0x1A4, time + 6);
                NodesMade(t, time + 7, time + 8);
            },
        },
        new("RemoveSourceFiles_DevicesSpecials", t => Base(t) with
        {
            RemoveSourceFiles = true,
            Preserve = SyncOptions.DefaultPreserve | PreserveOptions.Devices | PreserveOptions.Specials,
        }, (t, o) =>
        {
            // Each node is made at the destination and then removed from the source, as a file is (rsync does so too).
            Assert.Equal(Posix.SIfifo, TestTree.Stat(Dst(t, "nodes/pipe")).FileType);
            Assert.Equal(Posix.SIfsock, TestTree.Stat(Dst(t, "nodes/sock")).FileType);
            Assert.Equal((Posix.SIfchr, SpecialFiles.NullDevice), (TestTree.Stat(Dst(t, "nodes/null")).FileType, TestTree.Stat(Dst(t, "nodes/null")).Rdev));
            foreach (string node in new[] { "nodes/pipe", "nodes/sock", "nodes/null" })
            {
                Assert.False(Path.Exists(Src(t, node)), node + " is still in the source");
            }

            // A node the destination already had, the same, is removed from the source without being made again.
            Assert.False(Path.Exists(Src(t, "nodes/same")));
            NoItem(o, "nodes/same");
            Assert.False(File.Exists(Src(t, "small.txt")));
            Assert.True(Directory.Exists(Src(t, "nodes")));
            HasItem(o, "nodes/pipe", SyncAction.Create, SyncItemType.Fifo);
            HasItem(o, "nodes/null", SyncAction.Create, SyncItemType.CharacterDevice);
        })
        {
            Prepare = t =>
            {
                long time = ScenarioTree.T + 60;
                SourceNodes(t, time);
                SpecialFiles.Fifo(Src(t, "nodes/same"), 0x1A4, time + 3);
                SpecialFiles.Fifo(Dst(t, "nodes/same"), 0x1A4, time + 3);
                NodesMade(t, time + 7, time + 7);
            },
        },
        new("Portable_PreserveAttributes", t => Windows(t), (t, o) =>
        {
            Assert.Equal(FileAttributes.ReadOnly | FileAttributes.Hidden, Attributes.Get(Dst(t, "small.txt")));
            Assert.Equal(".f........A", Assert.Single(o.Items, i => i.RelativePath == "small.txt").Itemize);
            Assert.Equal(FileAttributes.Hidden, Attributes.Get(Dst(t, "sub dir")));
            Assert.Equal(FileAttributes.System | FileAttributes.Archive, Attributes.Get(Dst(t, "big.bin")));
            // A read-only copy in the destination is updated all the same, and takes the source's attributes.
            Assert.Equal(FileAttributes.Archive, Attributes.Get(Dst(t, "touched.txt")));
            HasItem(o, "touched.txt", SyncAction.Update);
        })
        {
            WindowsAttributes = true,
            Prepare = t =>
            {
                Attributes.Set(Src(t, "small.txt"), FileAttributes.ReadOnly | FileAttributes.Hidden);
                Attributes.Set(Src(t, "sub dir"), FileAttributes.Hidden);
                Attributes.Set(Src(t, "big.bin"), FileAttributes.System | FileAttributes.Archive);
                Attributes.Set(Dst(t, "touched.txt"), FileAttributes.ReadOnly);
            },
        },
        new("Portable_ArchiveOnly_Delete", t => Windows(t) with { Preserve = WindowsPreserve & ~PreserveOptions.Attributes, ArchiveOnly = true, Delete = true }, (t, o) =>
        {
            // Files without the Archive attribute are not sent, and their copies in the destination are kept.
            Assert.False(File.Exists(Dst(t, "big2.bin")));
            NoItem(o, "touched.txt");
            Assert.Equal(T(-100), File.GetLastWriteTimeUtc(Dst(t, "touched.txt")));
            Assert.Equal(File.ReadAllBytes(Src(t, "big.bin")), File.ReadAllBytes(Dst(t, "big.bin")));
            HasItem(o, "extraneous.txt", SyncAction.Delete);
            Assert.Equal((FileAttributes)0, Attributes.Get(Src(t, "big2.bin")));
        })
        {
            WindowsAttributes = true,
            Prepare = t =>
            {
                Attributes.Set(Src(t, "big2.bin"), 0);
                Attributes.Set(Src(t, "touched.txt"), FileAttributes.Hidden);
            },
        },
        new("Portable_ResetArchive", t => Windows(t) with { Preserve = WindowsPreserve & ~PreserveOptions.Attributes, ResetArchive = true }, (t, o) =>
        {
            // robocopy /M: each verified copy (sent now, or already up to date) loses the flag in the source; the rest keep theirs.
            HasItem(o, "big.bin", SyncAction.Update);
            Assert.Equal((FileAttributes)0, Attributes.Get(Src(t, "big.bin")));
            Assert.Equal((FileAttributes)0, Attributes.Get(Src(t, "small.txt")));
            Assert.Equal(FileAttributes.ReadOnly, Attributes.Get(Src(t, "medium.dat")));
            Assert.False(File.Exists(Dst(t, "medium.dat")));
        })
        {
            WindowsAttributes = true,
            Prepare = t => Attributes.Set(Src(t, "medium.dat"), FileAttributes.ReadOnly),
        },
        new("ThrottleLimit1", t => Base(t) with { ThrottleLimit = 1 }, Converged),
        new("ThrottleLimit64", t => Base(t) with { ThrottleLimit = 64 }, Converged),
        new("TransferMode_Delta_BlockSize", t => Base(t) with { TransferMode = TransferMode.Delta, BlockSize = 2048 }, (t, o) =>
        {
            Converged(t, o);
            Assert.True(Assert.Single(o.Items, i => i.RelativePath == "big.bin").BytesMatched > 200_000);
        }),
    ];

    public static OptionScenario Get(string name) => All.Single(s => s.Name == name);

    /// <summary>Installs <see cref="Attributes"/> for the calling flow if <paramref name="scenario"/> keeps Windows'
    /// attributes; null otherwise.</summary>
    public static IDisposable? UseAttributes(OptionScenario scenario) => scenario.WindowsAttributes ? FileAttributeStore.Use(Attributes) : null;

    /// <summary>The Windows attributes of every item in the compared directories, a line each (path relative to the
    /// case's directory), for the cases that keep them; none otherwise.</summary>
    public static IEnumerable<string> AttributeLines(OptionScenario scenario, ScenarioTree tree)
    {
        if (!scenario.WindowsAttributes)
        {
            return [];
        }

        var lines = new List<string>();
        foreach (string top in ScenarioTree.Compared)
        {
            string root = Path.Join(tree.Root, top);
            lines.Add($"{top} attributes {Attributes.Get(root)}");
            foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
            {
                lines.Add($"{Path.GetRelativePath(tree.Root, path)} attributes {Attributes.Get(path)}");
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static SyncOptions Base(ScenarioTree t) => new() { Source = t.Source, Destination = t.Destination };

    /// <summary>The changes of Watch_Batch as a watcher reports them.</summary>
    private static readonly PlanScope WatchBatch = PlanScope.From([
        new WatchChange(WatchChangeKind.Item, "small.txt"),
        new WatchChange(WatchChangeKind.Item, "watched"),
        new WatchChange(WatchChangeKind.Subtree, "watched"),
        new WatchChange(WatchChangeKind.Item, "sub dir/exec.sh"),
    ]);

    /// <summary>What a run on Windows keeps by default, plus its attributes: the portable backend, no owners.</summary>
    private const PreserveOptions WindowsPreserve = PreserveOptions.Times | PreserveOptions.Permissions | PreserveOptions.Links | PreserveOptions.Attributes;

    /// <summary>A run as on Windows: the portable backend, keeping Windows' file attributes.</summary>
    private static SyncOptions Windows(ScenarioTree t) => Base(t) with { FileSystem = FileSystemBackendKind.Portable, Preserve = WindowsPreserve };

    private static DateTime T(long offset) => DateTime.UnixEpoch.AddSeconds(ScenarioTree.T + offset);

    private static DateTime At(long seconds, long nanoseconds = 0) =>
        DateTime.UnixEpoch.AddTicks((seconds * TimeSpan.TicksPerSecond) + (nanoseconds / 100));

    private static void PrepareStaleDestinationFile(ScenarioTree t)
    {
        Bytes(t.Source, "stale-in-dest.txt", "same in source and basis\n", ScenarioTree.T + 27);
        Bytes(t.Basis, "stale-in-dest.txt", "same in source and basis\n", ScenarioTree.T + 27);
        Bytes(t.Destination, "stale-in-dest.txt", "stale\n", ScenarioTree.T - 27);
        TestTree.SetTime(t.Source, ScenarioTree.T + 25, 0);
        TestTree.SetTime(t.Basis, ScenarioTree.T + 26, 0);
        TestTree.SetTime(t.Destination, ScenarioTree.T + 26, 0);
    }

    private static void Bytes(string root, string relative, string content, long seconds)
    {
        string path = Path.Join(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        TestTree.SetTime(path, seconds, 0);
    }

    /// <summary>The source's nodes/pipe (a FIFO), nodes/sock (a socket) and nodes/null (/dev/null's numbers), their times
    /// <paramref name="time"/> and the next two seconds.</summary>
    private static void SourceNodes(ScenarioTree t, long time)
    {
        SpecialFiles.Fifo(Src(t, "nodes/pipe"), 0x1A0, time);
        SpecialFiles.Socket(Src(t, "nodes/sock"), 0x1C0, time + 1);
        SpecialFiles.Device(Src(t, "nodes/null"), block: false, SpecialFiles.NullDevice, 0x1B6, time + 2);
    }

    /// <summary>Once the nodes are made: nodes/ on each side and the two roots get their times back.</summary>
    private static void NodesMade(ScenarioTree t, long sourceTime, long destinationTime)
    {
        TestTree.SetTime(Src(t, "nodes"), sourceTime, 0);
        TestTree.SetTime(Dst(t, "nodes"), destinationTime, 0);
        TestTree.SetTime(t.Source, ScenarioTree.T + 44, 0);
        TestTree.SetTime(t.Destination, ScenarioTree.T + 45, 0);
    }

    private static SyncFilter Filter(Func<SyncFilterBuilder, SyncFilterBuilder> rules) => rules(new SyncFilterBuilder()).Build();

    /// <summary>-FilesFrom as the cmdlets apply it (OptionNormalizer).</summary>
    private static SyncOptions FilesFrom(ScenarioTree t) => OptionNormalizer.ApplyFilesFrom(Base(t), t.FilesFrom, []);

    /// <summary>FilesFrom_Include_MissingPath's list: files, a directory (made, not entered) and a name the source lacks.</summary>
    private const string SelectionListText = "medium.dat\nsub dir/exec.sh\ndir-mode\nnot-in-source.txt\n";

    /// <summary>Where FilesFrom_Include_MissingPath's preparation writes its list, beside the trees.</summary>
    private static string SelectionList(ScenarioTree t) => Path.Join(t.Root, "files-from-selection.txt");

    /// <summary>-Backup and -BackupDirectory as the cmdlets apply them (OptionNormalizer): with -Delete, what the backups
    /// leave in the destination is protected from deletion.</summary>
    private static SyncOptions WithBackups(SyncOptions options, string? directory, string? suffix = null) =>
        OptionNormalizer.ApplyBackups(options, backup: true, directory, suffix);

    private static string Src(ScenarioTree t, string relative) => Path.Join(t.Source, relative);

    private static string Dst(ScenarioTree t, string relative) => Path.Join(t.Destination, relative);

    /// <summary>The destination holds the source's files, and no temp or partial file is left behind.</summary>
    private static void Converged(ScenarioTree t, RecordingObserver o)
    {
        foreach (string name in new[] { "big.bin", "big2.bin", "touched.txt", "sub dir/nested/deep.txt", "sub dir/nested/big3.bin" })
        {
            Assert.Equal(File.ReadAllBytes(Src(t, name)), File.ReadAllBytes(Dst(t, name)));
        }

        Assert.DoesNotContain(TestTree.Listing(t.Destination), p => p.Contains(".~psr", StringComparison.Ordinal)
            || p.Contains("psreplica-partial", StringComparison.Ordinal) || p.Contains(".partial", StringComparison.Ordinal));
    }

    private static void HasItem(RecordingObserver o, string path, SyncAction action, SyncItemType type = SyncItemType.File) =>
        Assert.Contains(o.Items, i => i.RelativePath == path && i.Action == action && i.ItemType == type);

    private static void NoItem(RecordingObserver o, string path) => Assert.DoesNotContain(o.Items, i => i.RelativePath == path);
}
