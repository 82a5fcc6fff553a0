using System.Text;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Sender;

/// <summary>The source half of CVE-2024-12747: a source file (or a directory on its path) swapped for a symbolic link, or
/// replaced, between the scan and the copy. Each run is planned first, the source is changed, then the plan is carried
/// out; the secret outside the source must never reach the replica, and the item fails with SourceChangedSinceListing.</summary>
public sealed class SourceRaceTests : IDisposable
{
    private const string Secret = "TOP-SECRET: root-only 0600 file outside the source";

    private readonly TestTree _tree = new();
    private readonly string _outside;
    private readonly string _secretFile;

    public SourceRaceTests()
    {
        _outside = Path.Join(_tree.Root, "outside");
        Directory.CreateDirectory(_outside);
        _secretFile = TestTree.Write(_outside, "secret.txt", Secret);
        Assert.Equal(0, Posix.Chmod(_secretFile, 0x180));
    }

    public void Dispose() => _tree.Dispose();

    /// <summary>The ways a local run reads a source file: a whole-file copy, the delta search against an existing copy,
    /// -Inplace whole and -Inplace delta.</summary>
    public enum Transfer
    {
        Whole,
        Delta,
        InplaceWhole,
        InplaceDelta,
    }

    private SyncOptions Options(Transfer transfer) => _tree.Options() with
    {
        TransferMode = transfer is Transfer.Delta or Transfer.InplaceDelta ? TransferMode.Delta : TransferMode.WholeFile,
        Inplace = transfer is Transfer.InplaceWhole or Transfer.InplaceDelta,
    };

    /// <summary>A source file and an older, different copy in the destination (the basis of a delta).</summary>
    private void SourceAndOlderCopy(string relative, string content)
    {
        TestTree.SetTime(_tree.Src(relative, content + new string('.', 4000)), TestTree.BaseTime + 100);
        TestTree.SetTime(_tree.Dst(relative, "older " + content + new string(',', 4000)), TestTree.BaseTime);
    }

    [Theory]
    [InlineData(Transfer.Whole)]
    [InlineData(Transfer.Delta)]
    [InlineData(Transfer.InplaceWhole)]
    [InlineData(Transfer.InplaceDelta)]
    public void A_file_swapped_for_a_link_after_the_scan_is_not_followed(Transfer transfer)
    {
        SourceAndOlderCopy("a.txt", "alpha");
        SourceAndOlderCopy("victim.txt", "public victim");
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(Options(transfer), observer, CancellationToken.None);

        string victim = Path.Join(_tree.Source, "victim.txt");
        File.Delete(victim);
        File.CreateSymbolicLink(victim, _secretFile);
        LocalReplicator.Execute(plan, observer, CancellationToken.None);

        AssertNoSecret(_tree.Destination);
        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.SourceChangedSinceListing, error.ErrorId);
        Assert.Equal("victim.txt", error.Target);
        Assert.StartsWith("alpha", File.ReadAllText(Path.Join(_tree.Destination, "a.txt")), StringComparison.Ordinal);
        Assert.DoesNotContain(observer.Items, i => i.RelativePath == "victim.txt");
    }

    [Theory]
    [InlineData(Transfer.Whole)]
    [InlineData(Transfer.Delta)]
    [InlineData(Transfer.InplaceWhole)]
    [InlineData(Transfer.InplaceDelta)]
    public void A_directory_swapped_for_a_link_to_an_outside_directory_is_not_walked_through(Transfer transfer)
    {
        SourceAndOlderCopy("dir/f.txt", "public f");
        TestTree.Write(_outside, "dir/f.txt", Secret);
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(Options(transfer), observer, CancellationToken.None);

        // The scanned directory (and the scanned file in it) still exists, elsewhere; a link to a same-named file takes its place.
        string directory = Path.Join(_tree.Source, "dir");
        Directory.Move(directory, Path.Join(_tree.Root, "moved-away"));
        Directory.CreateSymbolicLink(directory, Path.Join(_outside, "dir"));
        LocalReplicator.Execute(plan, observer, CancellationToken.None);

        AssertNoSecret(_tree.Destination);
        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.SourceChangedSinceListing, error.ErrorId);
        Assert.Equal("dir/f.txt", error.Target);
    }

    [Theory]
    [InlineData(Transfer.Whole)]
    [InlineData(Transfer.Delta)]
    [InlineData(Transfer.InplaceWhole)]
    [InlineData(Transfer.InplaceDelta)]
    public void A_file_replaced_by_another_regular_file_is_refused_not_sent_as_the_scanned_one(Transfer transfer)
    {
        SourceAndOlderCopy("replaced.txt", "scanned content");
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(Options(transfer), observer, CancellationToken.None);

        // A new inode under the scanned name (an editor's save-by-rename does this too).
        string replacement = TestTree.Write(_outside, "replacement.txt", "REPLACEMENT written after the scan");
        Assert.Equal(0, Posix.Rename(replacement, Path.Join(_tree.Source, "replaced.txt")));
        LocalReplicator.Execute(plan, observer, CancellationToken.None);

        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.SourceChangedSinceListing, error.ErrorId);
        Assert.DoesNotContain("REPLACEMENT", File.ReadAllText(Path.Join(_tree.Destination, "replaced.txt")), StringComparison.Ordinal);
    }

    [Fact]
    public void With_CopyLinks_a_link_is_followed_to_the_scanned_referent_and_a_retargeted_link_is_refused()
    {
        string referent = TestTree.Write(_outside, "public.txt", "public referent");
        string other = TestTree.Write(_outside, "public2.txt", "another public referent");
        File.CreateSymbolicLink(Path.Join(_tree.Source, "link"), referent);
        File.CreateSymbolicLink(Path.Join(_tree.Source, "retargeted"), other);
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(_tree.Options() with { CopyLinks = true }, observer, CancellationToken.None);

        File.Delete(Path.Join(_tree.Source, "retargeted"));
        File.CreateSymbolicLink(Path.Join(_tree.Source, "retargeted"), _secretFile);
        LocalReplicator.Execute(plan, observer, CancellationToken.None);

        AssertNoSecret(_tree.Destination);
        Assert.Equal("public referent", File.ReadAllText(Path.Join(_tree.Destination, "link")));
        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.SourceChangedSinceListing, error.ErrorId);
        Assert.Equal("retargeted", error.Target);
    }

    [Fact]
    public void RemoveSourceFiles_never_removes_a_file_reached_through_a_directory_swapped_for_a_link()
    {
        _tree.Src("dir/f.txt", "same content");
        _tree.Dst("dir/f.txt", "same content");
        string outsideTwin = TestTree.Write(_outside, "dir/f.txt", "same content");
        _tree.FreezeBoth();
        TestTree.Freeze(_outside);
        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(_tree.Options() with { RemoveSourceFiles = true }, observer, CancellationToken.None);

        string directory = Path.Join(_tree.Source, "dir");
        Directory.Move(directory, Path.Join(_tree.Root, "moved-away"));
        Directory.CreateSymbolicLink(directory, Path.Join(_outside, "dir"));
        LocalReplicator.Execute(plan, observer, CancellationToken.None);

        Assert.True(File.Exists(outsideTwin), "a file outside the source was removed through a swapped-in directory link");
        Assert.Contains(observer.Warnings, w => w.Contains("dir/f.txt", StringComparison.Ordinal));
    }

    /// <summary>Push: the local source is read by the controller for an agent (whole files in a write batch, deltas,
    /// -Inplace, -Partial).</summary>
    public enum Push
    {
        NewFileInBatch,
        Delta,
        Inplace,
        Partial,
    }

    [Theory]
    [InlineData(Push.NewFileInBatch)]
    [InlineData(Push.Delta)]
    [InlineData(Push.Inplace)]
    [InlineData(Push.Partial)]
    public async Task A_push_does_not_follow_a_source_file_swapped_for_a_link(Push push)
    {
        _tree.Dst("keep.txt", "kept");
        if (push == Push.NewFileInBatch)
        {
            _tree.Src("victim.txt", "public victim");
        }
        else
        {
            SourceAndOlderCopy("victim.txt", "public victim");
        }

        SyncOptions options = _tree.Options() with { Inplace = push == Push.Inplace, Partial = push == Push.Partial };
        await using var loop = Loopback.WithAgent();
        await using RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Destination, options.Destination);
        var observer = new RecordingObserver();
        SyncPlan plan = replicator.Plan(options, observer, CancellationToken.None);

        string victim = Path.Join(_tree.Source, "victim.txt");
        File.Delete(victim);
        File.CreateSymbolicLink(victim, _secretFile);
        await Task.Run(() => replicator.Execute(plan, observer, CancellationToken.None));

        AssertNoSecret(_tree.Destination);
        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.SourceChangedSinceListing, error.ErrorId);
    }

    [Theory]
    [InlineData(Transfer.Whole)]
    [InlineData(Transfer.Delta)]
    public void Files_flipping_between_themselves_and_a_link_during_a_run_never_leak_the_link_target(Transfer transfer)
    {
        const int Count = 2000;
        var victims = new List<int>();
        for (int i = 0; i < Count; i++)
        {
            string relative = Name(i);
            if (transfer == Transfer.Delta)
            {
                SourceAndOlderCopy(relative, "public " + i);
            }
            else
            {
                _tree.Src(relative, "public " + i);
            }

            if (i % 4 == 1)
            {
                victims.Add(i);
            }
        }

        var observer = new RecordingObserver();
        SyncPlan plan = LocalReplicator.Plan(Options(transfer), observer, CancellationToken.None);
        Assert.Empty(observer.Errors);

        // Each victim's inode is kept under a second name outside the source, so that the flipper puts back the very file
        // the scan saw: every rename is atomic, and the name always holds either the scanned file or the link.
        string keep = Path.Join(_outside, "keep");
        Directory.CreateDirectory(keep);
        foreach (int i in victims)
        {
            Assert.Equal(0, Posix.Link(Path.Join(_tree.Source, Name(i)), Path.Join(keep, i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        }

        string linkTemp = Path.Join(_outside, "link.tmp");
        string fileTemp = Path.Join(_outside, "file.tmp");
        int stop = 0;
        long flips = 0;
        using var flipping = new ManualResetEventSlim();
        Exception? flipperFailure = null;
        var flipper = new Thread(() =>
        {
            try
            {
                while (Volatile.Read(ref stop) == 0)
                {
                    foreach (int i in victims)
                    {
                        File.CreateSymbolicLink(linkTemp, _secretFile);
                        Assert.Equal(0, Posix.Rename(linkTemp, Path.Join(_tree.Source, Name(i))));
                        flips++;
                    }

                    flipping.Set();
                    foreach (int i in victims)
                    {
                        Assert.Equal(0, Posix.Link(Path.Join(keep, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), fileTemp));
                        Assert.Equal(0, Posix.Rename(fileTemp, Path.Join(_tree.Source, Name(i))));
                        flips++;
                    }
                }
            }
            catch (Exception ex)
            {
                flipperFailure = ex;
                flipping.Set();
            }
        })
        { IsBackground = true, Name = "source flipper" };
        flipper.Start();
        flipping.Wait();
        try
        {
            LocalReplicator.Execute(plan, observer, CancellationToken.None);
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            flipper.Join();
        }

        Assert.Null(flipperFailure);
        Assert.True(flips > victims.Count, $"{flips} flips");
        AssertNoSecret(_tree.Destination);
        Assert.All(observer.Errors, e => Assert.Equal(ErrorIds.SourceChangedSinceListing, e.ErrorId));
        for (int i = 0; i < Count; i++)
        {
            string copy = Path.Join(_tree.Destination, Name(i));
            bool refused = observer.Errors.Exists(e => e.Target == Name(i));
            if (!refused || transfer == Transfer.Whole)
            {
                // Copied: the scanned file's content. Refused: no new file (or, for a delta, the older copy untouched).
                Assert.Equal(!refused, File.Exists(copy) && File.ReadAllText(copy).StartsWith("public " + i, StringComparison.Ordinal));
            }
        }
    }

    private static string Name(int i) => $"d{i % 20:D2}/f{i:D4}.txt";

    /// <summary>Fails when any file below <paramref name="root"/> holds the secret's bytes (links, to files or directories,
    /// are not followed: a link copied as a link carries no secret).</summary>
    private static void AssertNoSecret(string root)
    {
        byte[] secret = Encoding.UTF8.GetBytes(Secret);
        foreach (string file in TestTree.Walk(root))
        {
            if (Posix.Stat(file, follow: false, out StatInfo info) == 0 && info.FileType == Posix.SIfreg)
            {
                Assert.False(File.ReadAllBytes(file).AsSpan().IndexOf(secret) >= 0, $"the secret reached the replica in '{file}'");
            }
        }
    }
}
