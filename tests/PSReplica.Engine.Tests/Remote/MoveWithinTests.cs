using System.Text;
using PSReplica.Engine.Endpoints;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>MoveWithin through a real agent (-Watch repeating a source directory's rename on a push): what the move met
/// comes back as an errno, a link on the way fails the request alone, and a destination whose agent does not list
/// "move-within" is never asked.</summary>
public sealed class MoveWithinTests : IDisposable
{
    private readonly TestTree _tree = new();

    public MoveWithinTests() => Directory.CreateDirectory(_tree.Destination);

    public void Dispose() => _tree.Dispose();

    [Fact]
    public async Task The_agent_lists_MoveWithin()
    {
        Assert.Contains(Handshake.MoveWithin, Handshake.Capabilities);
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, _tree.Destination))
        {
            Assert.True(client.MovesWithin);
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    [Fact]
    public async Task MoveWithinAsync_moves_the_directory_and_answers_what_it_met()
    {
        _tree.Dst("old/sub/a.txt", "a");
        _tree.Dst("taken/keep.txt", "keep");
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, _tree.Destination))
        {
            Assert.Equal(Posix.EEXIST, await client.MoveWithinAsync("old", "taken", CancellationToken.None));
            Assert.Equal(Posix.ENOENT, await client.MoveWithinAsync("missing", "new", CancellationToken.None));
            Assert.Equal(Posix.ENOTDIR, await client.MoveWithinAsync("taken/keep.txt", "new", CancellationToken.None));
            Assert.Equal(0, await client.MoveWithinAsync("old", "taken/new", CancellationToken.None));
            Assert.Null(client.Fault);
        }

        Assert.Equal(0, await loop.FinishAsync());
        Assert.Equal(["taken", "taken/keep.txt", "taken/new", "taken/new/sub", "taken/new/sub/a.txt"], TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public async Task A_MoveWithin_through_a_link_fails_that_request_and_the_session_goes_on()
    {
        string outside = Path.Join(_tree.Root, "outside");
        TestTree.Write(outside, "victim/secret", "secret");
        Directory.CreateSymbolicLink(Path.Join(_tree.Destination, "link"), outside);
        _tree.Dst("mine/a.txt", "a");
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, _tree.Destination))
        {
            var stealing = await Assert.ThrowsAsync<SyncException>(() => client.MoveWithinAsync("link/victim", "stolen", CancellationToken.None));
            Assert.Equal(ErrorIds.UnsafePath, stealing.ErrorId);
            var planting = await Assert.ThrowsAsync<SyncException>(() => client.MoveWithinAsync("mine", "link/mine", CancellationToken.None));
            Assert.Equal(ErrorIds.UnsafePath, planting.ErrorId);

            Assert.Null(client.Fault);
            Assert.Equal(0, await client.MoveWithinAsync("mine", "yours", CancellationToken.None));
        }

        Assert.Equal(0, await loop.FinishAsync());
        // The listing enters the link; the outside's own listing proves nothing moved out of it or into it.
        Assert.Equal(["link", "link/victim", "link/victim/secret", "yours", "yours/a.txt"], TestTree.Listing(_tree.Destination));
        Assert.Equal(["victim", "victim/secret"], TestTree.Listing(outside));
    }

    // A file of -DelayUpdates waiting in the directory is known by its old path: moving the directory under it would
    // leave the burst unable to find it, so the move is refused and the burst still puts the file in place.
    [Fact]
    public async Task A_MoveWithin_over_files_waiting_for_the_burst_is_refused_with_EBUSY()
    {
        _tree.Dst("old/a.txt", "old");
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, _tree.Destination))
        {
            await client.DelayUpdatesAsync(CancellationToken.None);
            byte[] data = Encoding.UTF8.GetBytes("new");
            await client.WriteFileAsync("old/a.txt", new MemoryStream(data), data.Length, AttributeSet.None, CancellationToken.None);

            Assert.Equal(Posix.EBUSY, await client.MoveWithinAsync("old", "new", CancellationToken.None));
            (long failed, _) = await client.CommitUpdatesAsync(CancellationToken.None);
            Assert.Equal(0, failed);
            Assert.Equal(0, await client.MoveWithinAsync("old", "new", CancellationToken.None));
        }

        Assert.Equal(0, await loop.FinishAsync());
        Assert.Equal(["new", "new/a.txt"], TestTree.Listing(_tree.Destination));
        Assert.Equal("new", File.ReadAllText(Path.Join(_tree.Destination, "new/a.txt")));
    }

    [Fact]
    public async Task The_agents_directory_moves_do_not_send_MoveWithin_to_an_agent_without_it()
    {
        _tree.Dst("old/a.txt", "a");
        await using Loopback loop = Loopback.Bare();
        var peer = new FakePeer(loop.AgentIn, loop.AgentOut);
        Task accept = peer.AcceptAsControllerPeerAsync([.. Handshake.Capabilities.Where(c => c != Handshake.MoveWithin)]);
        AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, _tree.Destination);
        await accept;
        var moves = new AgentDirectoryMoves(client);
        Assert.IsAssignableFrom<IDirectoryMoves>(moves);
        long sent = loop.BytesToAgent;

        Assert.False(client.MovesWithin);
        Assert.Equal(Posix.ENOSYS, await Task.Run(() => moves.MoveDirectory("old", "new", CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(sent, loop.BytesToAgent);
        Assert.Equal(["old", "old/a.txt"], TestTree.Listing(_tree.Destination));
    }

    [Fact]
    public async Task The_agents_directory_moves_go_through_an_agent_with_MoveWithin()
    {
        _tree.Dst("old/a.txt", "a");
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, _tree.Destination))
        {
            var moves = new AgentDirectoryMoves(client);
            Assert.IsAssignableFrom<IDirectoryMoves>(moves);
            Assert.Equal(0, await Task.Run(() => moves.MoveDirectory("old", "new", CancellationToken.None)));
            Assert.Equal(Posix.ENOENT, await Task.Run(() => moves.MoveDirectory("old", "again", CancellationToken.None)));
        }

        Assert.Equal(0, await loop.FinishAsync());
        Assert.Equal(["new", "new/a.txt"], TestTree.Listing(_tree.Destination));
    }
}
