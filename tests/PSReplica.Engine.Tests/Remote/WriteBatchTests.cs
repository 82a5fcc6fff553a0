using System.IO.Hashing;
using System.Text;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>Small files travel to the agent back to back in WriteBatch requests. The controller must use them (a request
/// per thousand files, not per file) and settle every file as a local run would; the agent must check every record as
/// strictly as a request of its own, answer each file in order, and go on after a file that cannot be written.</summary>
public sealed class WriteBatchTests : IDisposable
{
    private readonly AgentSandbox _sandbox = new();
    private readonly TestTree _tree;

    public WriteBatchTests()
    {
        _tree = _sandbox.Tree;
        Directory.CreateDirectory(_tree.Destination);
    }

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Thousands_of_small_files_go_in_a_few_requests_and_settle_in_plan_order()
    {
        RandomTree.CreateSmallFiles(_tree.Source, seed: 5, directories: 10, filesEach: 300, maxBytes: 9000);

        // Larger files go their own way, between the small ones.
        TestTree.Write(_tree.Source, "d3/large.bin", new string('x', 600_000));
        TestTree.Freeze(_tree.Source);

        (SyncSummary summary, RecordingObserver observer, long requests, _) = await Loopback.PlanThenExecuteAsync(RemoteSide.Destination,
            _tree.Options(), latency: TimeSpan.FromMilliseconds(2));

        Assert.Empty(observer.Errors);
        Assert.Equal(3011, summary.Created);
        RandomTree.AssertSame(_tree.Source, _tree.Destination);
        Assert.Equal(Local(_tree.Options()), Describe(observer.Items));
        long sourceBytes = Directory.EnumerateFiles(_tree.Source, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.Equal(sourceBytes, observer.Items.Sum(i => i.BytesTransferred));

        // A request each would be 3,001 writes besides the 11 directories, the listing and the directory times.
        Assert.True(requests < 100, $"{requests} requests for 3,001 files");
    }

    [Fact]
    public async Task A_file_gone_before_it_is_read_is_reported_and_the_rest_are_written()
    {
        for (int i = 0; i < 50; i++)
        {
            _tree.Src($"f{i:D2}.txt", $"content {i}");
        }

        TestTree.Freeze(_tree.Source);
        (SyncSummary summary, RecordingObserver observer, _, _) = await Loopback.PlanThenExecuteAsync(RemoteSide.Destination, _tree.Options(),
            () => File.Delete(Path.Join(_tree.Source, "f17.txt")));

        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.SourceVanished, error.ErrorId);
        Assert.Equal(1, summary.Errors);
        Assert.Equal(49, observer.Items.Count(i => i.ItemType == SyncItemType.File));
        Assert.DoesNotContain(observer.Items, i => i.RelativePath == "f17.txt");
        Assert.False(File.Exists(Path.Join(_tree.Destination, "f17.txt")));
        Assert.Equal("content 49", File.ReadAllText(Path.Join(_tree.Destination, "f49.txt")));
    }

    [Fact]
    public async Task Each_file_is_answered_in_order_and_a_file_that_cannot_be_written_does_not_stop_the_batch()
    {
        await using Loopback loop = Loopback.WithAgent();
        FakePeer peer = await loop.ConnectPeerAsync(RemoteSide.Destination, _tree.Destination);
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.CreateSymbolicLink, "d") { Other = _sandbox.Outside }.Write(w));
        (await peer.ExpectAsync(FrameKind.End, 1)).Dispose();

        await peer.SendAsync(FrameKind.Request, 2, w => new AgentRequest(RequestType.WriteBatch, string.Empty).Write(w));
        var body = new MemoryStream();
        Record(body, "a.txt", "first");
        Record(body, "d/planted", "pwned");                 // through a link: refused
        Record(body, "b.txt", "second", corruptHash: true); // does not verify
        Record(body, "missing/c.txt", "third");             // no such directory
        Record(body, "e.txt", "fourth", mode: 0x1A4, mtime: 1_500_000_000);
        await peer.SendBodyAsync(2, body.ToArray());

        List<(long Written, string? ErrorId)> results = await ResultsAsync(peer, 2);
        Assert.Equal([(5L, null), (0L, ErrorIds.UnsafePath), (0L, ErrorIds.DeltaVerificationFailed), (0L, ErrorIds.FileWriteError), (6L, null)],
            results.Select(r => (r.Written, r.ErrorId)));

        Assert.Equal(0, await loop.FinishAsync());
        Assert.Equal("first", File.ReadAllText(Path.Join(_tree.Destination, "a.txt")));
        Assert.Equal("fourth", File.ReadAllText(Path.Join(_tree.Destination, "e.txt")));
        Assert.Equal(0x1A4, TestTree.Stat(Path.Join(_tree.Destination, "e.txt")).Permissions);
        Assert.Equal(1_500_000_000, TestTree.Stat(Path.Join(_tree.Destination, "e.txt")).MtimeSeconds);
        Assert.Equal(["a.txt", "d", "e.txt"], Directory.GetFileSystemEntries(_tree.Destination).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["secret"], TestTree.Listing(_sandbox.Outside));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("/etc/x")]
    [InlineData("")]
    public Task A_record_with_an_unsafe_name_ends_the_session(string name) => ExpectAbort(
        ErrorIds.UnsafePath, body => Record(body, name, "pwned"));

    [Fact]
    public Task A_header_longer_than_allowed_ends_the_session() => ExpectAbort(ErrorIds.ProtocolViolation, body =>
        body.Write(BitConverter.GetBytes(BatchCodec.MaxHeader + 1)));

    [Fact]
    public Task A_file_larger_than_a_batch_may_carry_ends_the_session() => ExpectAbort(ErrorIds.ProtocolViolation, body =>
    {
        using var header = new WireWriter();
        header.String("big").UInt((ulong)ProtocolLimits.MaxBatchFile + 1);
        AttributeSet.None.Write(header);
        body.Write(BitConverter.GetBytes(header.Length));
        body.Write(header.Written);
    });

    [Fact]
    public Task A_body_that_ends_inside_a_record_ends_the_session_and_leaves_no_temp_file() => ExpectAbort(ErrorIds.ProtocolViolation, body =>
    {
        Record(body, "whole.txt", "whole");
        var cut = new MemoryStream();
        Record(cut, "cut.txt", "this record is cut short");
        body.Write(cut.ToArray().AsSpan(0, (int)cut.Length - 20));
    }, written: ["whole.txt"]);

    [Fact]
    public Task A_batch_request_that_names_a_path_ends_the_session() => ExpectAbort(ErrorIds.ProtocolViolation, null, path: "x");

    private async Task ExpectAbort(string errorId, Action<MemoryStream>? write, string path = "", string[]? written = null)
    {
        await _sandbox.ExpectAbortAsync(errorId, RemoteSide.Destination, async peer =>
        {
            await peer.SendAsync(FrameKind.Request, 1, w => w.Byte((byte)RequestType.WriteBatch).String(path));
            if (write is not null)
            {
                var body = new MemoryStream();
                write(body);
                await peer.SendBodyAsync(1, body.ToArray());
            }
        });

        Assert.Equal(written ?? [], TestTree.Listing(_tree.Destination));
        Assert.Equal(["secret"], TestTree.Listing(_sandbox.Outside));
        Assert.False(File.Exists(Path.Join(_tree.Root, "x")));
    }

    private static void Record(MemoryStream body, string path, string content, bool corruptHash = false, int? mode = null, long? mtime = null)
    {
        byte[] data = Encoding.UTF8.GetBytes(content);
        byte[] hash = XxHash128.Hash(data);
        if (corruptHash)
        {
            hash[0] ^= 1;
        }

        AttributeFields fields = (mode is null ? AttributeFields.None : AttributeFields.Mode) | (mtime is null ? AttributeFields.None : AttributeFields.Time);
        using var header = new WireWriter();
        BatchCodec.WriteRecord(body, header, path, data, hash, new AttributeSet(fields, mode ?? 0, 0, 0, mtime ?? 0, 0));
    }

    private static async Task<List<(long Written, string? ErrorId)>> ResultsAsync(FakePeer peer, uint id)
    {
        using MemoryStream answer = await peer.ReadBodyAsync(id);
        var results = new List<(long, string?)>();
        byte[] buffer = new byte[BatchCodec.MaxResult];
        while (BatchCodec.ReadResult(answer, buffer, out long written, out SyncException? error))
        {
            results.Add((written, error?.ErrorId));
        }

        return results;
    }

    /// <summary>The items a local run into a fresh directory reports, in order.</summary>
    private List<string> Local(SyncOptions options)
    {
        string destination = Path.Join(_tree.Root, "local");
        Directory.CreateDirectory(destination);
        var observer = new RecordingObserver();
        LocalReplicator.Run(options with { Destination = destination }, observer, CancellationToken.None);
        return Describe(observer.Items);
    }

    private static List<string> Describe(List<SyncItem> items) => items.ConvertAll(i => $"{i.Action} {i.ItemType} {i.RelativePath} {i.Reason} {i.Length}");
}
