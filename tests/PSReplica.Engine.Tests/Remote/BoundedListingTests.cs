using PSReplica.Engine.Client;
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

    [Fact]
    public async Task A_listing_stopped_ahead_of_its_reader_ends_with_its_session()
    {
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
