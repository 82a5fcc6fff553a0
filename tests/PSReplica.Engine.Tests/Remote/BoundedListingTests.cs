using PSReplica.Engine.Client;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>A streamed run's listing (<see cref="RemoteListing.HoldsAtMost"/>): it reads the agent's walk only as far ahead
/// of its reader as its bound allows, yet never stops while its reader waits for a directory still to come, and reads the
/// rest away once told nobody will ask again, so the agent's walk and session end cleanly.</summary>
public sealed class BoundedListingTests : IDisposable
{
    private const int Bound = 100;
    private const int Directories = 30;
    private const int FilesPerDirectory = 200;

    // Long names, so that one data frame of the listing carries a few hundred entries, not thousands.
    private const int NameLength = 120;

    private readonly TestTree _tree = new();

    public BoundedListingTests()
    {
        for (int d = 0; d < Directories; d++)
        {
            string directory = Path.Join(_tree.Source, DirectoryName(d));
            Directory.CreateDirectory(directory);
            for (int f = 0; f < FilesPerDirectory; f++)
            {
                File.WriteAllBytes(Path.Join(directory, f.ToString("D4", System.Globalization.CultureInfo.InvariantCulture).PadRight(NameLength, 'n')), []);
            }
        }
    }

    public void Dispose() => _tree.Dispose();

    /// <summary>The most a bounded listing may hold when its reader has stopped: the bound, then the frame that crossed
    /// it (a frame holds at most DataChunk bytes, each entry at least its name), and the directory being received.</summary>
    private static int MostHeld => Bound + ProtocolLimits.DataChunk / NameLength + FilesPerDirectory;

    private static string DirectoryName(int index) => "d" + index.ToString("D2", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Reading_stops_ahead_of_the_reader_and_goes_on_as_directories_are_taken()
    {
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, _tree.Source))
        {
            RemoteListing listing = await client.ListAsync(string.Empty, recursive: true, CancellationToken.None, holdsAtMost: Bound);
            Assert.Equal(Directories, (await listing.TakeAsync(string.Empty, CancellationToken.None)).Count);
            int stops = 0;
            for (int d = 0; d < Directories; d++)
            {
                await listing.WhenReaderWaits();
                if (!listing.Completion.IsCompleted)
                {
                    stops++;
                    int held = listing.EntriesHeld;
                    Assert.True(held <= MostHeld, $"{held} entries held ahead of the reader at directory {d}; at most {MostHeld} may be");
                }

                Assert.Equal(FilesPerDirectory, (await listing.TakeAsync(DirectoryName(d), CancellationToken.None)).Count);
            }

            // 6,000 entries of some 130 bytes each are far more than the bound and a window: reading stopped many times.
            Assert.True(stops > Directories / 2, $"reading stopped only {stops} times");
            await listing.Completion;
            Assert.Equal(0, listing.EntriesHeld);
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    [Fact]
    public async Task A_directory_waited_for_is_read_up_to_whatever_is_held_before_it()
    {
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, _tree.Source))
        {
            RemoteListing listing = await client.ListAsync(string.Empty, recursive: true, CancellationToken.None, holdsAtMost: Bound);

            // The last directory comes after every other: the bound gives way rather than leave its reader waiting forever.
            List<FileEntry> last = await listing.TakeAsync(DirectoryName(Directories - 1), CancellationToken.None)
                .WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Equal(FilesPerDirectory, last.Count);
            Assert.True(listing.EntriesHeld >= (Directories - 1) * FilesPerDirectory);
            listing.StopHolding();
            await listing.Completion;
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    [Fact]
    public async Task Once_nobody_will_ask_the_rest_is_read_away_and_the_session_ends_cleanly()
    {
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, _tree.Source))
        {
            RemoteListing listing = await client.ListAsync(string.Empty, recursive: true, CancellationToken.None, holdsAtMost: Bound);
            await listing.TakeAsync(string.Empty, CancellationToken.None);
            await listing.WhenReaderWaits();
            Assert.False(listing.Completion.IsCompleted, "the listing was read whole although nobody asked for it");

            listing.StopHolding();
            await listing.Completion;
            Assert.Equal(0, listing.EntriesHeld);
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    /// <summary>A basis tree's listing (<see cref="RemoteListing.DropsPassed"/>): the planner asks only for some of its
    /// directories, in its order; those it passed are dropped, so what is held stays within the bound although most
    /// directories are never asked for.</summary>
    [Fact]
    public async Task A_basis_listing_drops_the_directories_its_reader_passed()
    {
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, _tree.Destination))
        {
            Assert.NotNull(await client.OpenTreeAsync(0, _tree.Source, CancellationToken.None));
            RemoteListing listing = await client.ListTreeAsync(0, _tree.Source, CancellationToken.None, holdsAtMost: Bound);
            Assert.True(listing.DropsPassed);
            Assert.Equal(Directories, (await listing.TakeAsync(string.Empty, CancellationToken.None)).Count);
            for (int d = 2; d < Directories; d += 3)
            {
                Assert.Equal(FilesPerDirectory, (await listing.TakeAsync(DirectoryName(d), CancellationToken.None)).Count);
                await listing.WhenReaderWaits();
                int held = listing.EntriesHeld;
                Assert.True(held <= MostHeld, $"{held} entries held after directory {d}; at most {MostHeld} may be");
            }

            listing.StopHolding();
            await listing.Completion;
            Assert.Equal(0, listing.EntriesHeld);
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    /// <summary>-Checksum: each file's checksum stays with its entry, and goes with it once the planner has dropped the
    /// directory (the listing kept one per file of the tree, keyed by path, until the run ended).</summary>
    [Fact]
    public async Task A_checksum_goes_with_its_entry()
    {
        File.WriteAllText(Path.Join(_tree.Source, DirectoryName(3), "content"), "some content");
        UInt128 expected = SyncPlanner.ContentHash(Path.Join(_tree.Source, DirectoryName(3), "content"));
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, _tree.Source))
        {
            RemoteListing listing = await client.ListAsync(string.Empty, recursive: true, CancellationToken.None,
                new ListingOptions(ListingFeatures.Checksums, string.Empty), holdsAtMost: Bound);
            Assert.Equal(Directories, await TakeWithChecksumsAsync(listing, string.Empty, null));
            for (int d = 0; d < Directories; d++)
            {
                Assert.Equal(FilesPerDirectory + (d == 3 ? 1 : 0), await TakeWithChecksumsAsync(listing, DirectoryName(d), d == 3 ? expected : null));
            }

            await listing.Completion;

            // Every entry taken has been let go: after a full collection no checksum is held.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Assert.Equal(0, listing.ChecksumsHeld);
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    /// <summary>Takes a directory, checks that each regular file carries its checksum (the file "content" the one given),
    /// and lets go of the entries (a task of its own, so that no local of the test's holds them).</summary>
    private static Task<int> TakeWithChecksumsAsync(RemoteListing listing, string directory, UInt128? content) => Task.Run(() =>
    {
        List<FileEntry> entries = listing.List(directory);
        foreach (FileEntry entry in entries)
        {
            UInt128? checksum = listing.Checksum(entry);
            Assert.Equal(entry.Kind == EntryKind.File, checksum is not null);
            if (entry.Name == "content")
            {
                Assert.Equal(content, checksum);
            }
        }

        return entries.Count;
    });

    [Fact]
    public async Task A_listing_stopped_ahead_of_its_reader_ends_with_its_session()
    {
        // More than a stream's window of listing (names that do not compress), so that the agent's walk is still waiting
        // for credit when the session closes. (With the whole listing sent within one window, what had arrived held its
        // end too, and the reader, let go by the session's end, read it through and completed: it failed so once, loaded.)
        var random = new Random(18);
        int written = 0;
        for (int d = 0; written < 2 * ProtocolLimits.StreamWindow; d++)
        {
            string directory = Path.Join(_tree.Source, "more" + d.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(directory);
            for (int f = 0; f < FilesPerDirectory; f++)
            {
                string name = Convert.ToHexString(random.GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), NameLength / 2));
                File.WriteAllBytes(Path.Join(directory, name), []);
                written += name.Length;
            }
        }

        await using Loopback loop = Loopback.WithAgent();
        RemoteListing listing;
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, _tree.Source))
        {
            listing = await client.ListAsync(string.Empty, recursive: true, CancellationToken.None, holdsAtMost: Bound);
            await listing.WhenReaderWaits();
            Assert.False(listing.Completion.IsCompleted);
        }

        // The session is closed with the listing's reader waiting for room: it stops waiting and fails with the session.
        await Assert.ThrowsAnyAsync<SyncException>(() => listing.Completion);
        await loop.FinishAsync();
    }
}
