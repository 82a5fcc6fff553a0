using System.Text;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>A pull asks for small files ahead, in ReadBatch requests. The controller must use them (a request per
/// thousand files, not per file) and report every file as a local run would; the agent must read each as strictly as
/// a ReadFile (a regular file inside the tree, no link followed), answer each in order, and go on after one it cannot read.</summary>
public sealed class ReadBatchTests : IDisposable
{
    private readonly AgentSandbox _sandbox = new();
    private readonly TestTree _tree;

    public ReadBatchTests() => _tree = _sandbox.Tree;

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Thousands_of_small_files_are_pulled_in_a_few_requests_and_reported_in_plan_order()
    {
        RandomTree.CreateSmallFiles(_tree.Source, seed: 9, directories: 10, filesEach: 300, maxBytes: 9000);

        TestTree.Write(_tree.Source, "d4/large.bin", new string('y', 300_000));
        TestTree.Freeze(_tree.Source);

        (_, RecordingObserver observer, long requests, _) = await Loopback.PlanThenExecuteAsync(RemoteSide.Source, _tree.Options(),
            latency: TimeSpan.FromMilliseconds(2));

        Assert.Empty(observer.Errors);
        RandomTree.AssertSame(_tree.Source, _tree.Destination);
        var local = new RecordingObserver();
        LocalReplicator.Run(_tree.Options() with { Destination = Path.Join(_tree.Root, "local") }, local, CancellationToken.None);
        Assert.Equal(Describe(local.Items), Describe(observer.Items));
        Assert.True(requests < 100, $"{requests} requests for 3,001 files");
    }

    [Fact]
    public async Task The_paths_of_a_read_batch_go_out_in_groups_not_one_write_per_file()
    {
        // Each path flushed on its own was a frame, an SSH packet and an agent wake-up per file: the pull of 20,000 small
        // files spent twice rsync's CPU on them. 2,000 files must reach the agent in far fewer writes than files.
        RandomTree.CreateSmallFiles(_tree.Source, seed: 4, directories: 4, filesEach: 500, maxBytes: 2000);
        TestTree.Freeze(_tree.Source);

        var observer = new RecordingObserver();
        await using Loopback loop = Loopback.WithAgent();
        SyncOptions options = _tree.Options();
        await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(RemoteSide.Source, options.Source))
        {
            SyncPlan plan = replicator.Plan(options, observer, CancellationToken.None);
            long before = loop.WritesToAgent;
            await Task.Run(() => replicator.Execute(plan, observer, CancellationToken.None));
            long writes = loop.WritesToAgent - before;
            Assert.True(writes < 2000 / 8, $"{writes} writes to the agent for 2,000 prefetched files");
        }

        Assert.Empty(observer.Errors);
        RandomTree.AssertSame(_tree.Source, _tree.Destination);
    }

    [Fact]
    public async Task A_file_gone_before_it_is_read_is_reported_and_the_rest_are_pulled()
    {
        for (int i = 0; i < 50; i++)
        {
            _tree.Src($"f{i:D2}.txt", $"content {i}");
        }

        TestTree.Freeze(_tree.Source);
        (_, RecordingObserver observer, _, _) = await Loopback.PlanThenExecuteAsync(RemoteSide.Source, _tree.Options(),
            () => File.Delete(Path.Join(_tree.Source, "f17.txt")));

        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal(ErrorIds.SourceVanished, error.ErrorId);
        Assert.Equal(49, observer.Items.Count(i => i.ItemType == SyncItemType.File));
        Assert.False(File.Exists(Path.Join(_tree.Destination, "f17.txt")));
        Assert.Equal("content 49", File.ReadAllText(Path.Join(_tree.Destination, "f49.txt")));
    }

    [Fact]
    public async Task Each_file_is_answered_in_order_and_one_that_cannot_be_read_does_not_stop_the_batch()
    {
        _tree.Src("a.txt", "first");
        _tree.Src("b.txt", "second");
        _tree.Src("dir/inner.txt", "inner");
        TestTree.Write(_tree.Source, "big.bin", new string('z', ProtocolLimits.MaxBatchFile + 1));
        File.CreateSymbolicLink(Path.Join(_tree.Source, "link"), _sandbox.Secret);
        File.CreateSymbolicLink(Path.Join(_tree.Source, "linkdir"), _sandbox.Outside);

        await using Loopback loop = Loopback.WithAgent();
        FakePeer peer = await loop.ConnectPeerAsync(RemoteSide.Source, _tree.Source);
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ReadBatch, string.Empty).Write(w));
        var body = new MemoryStream();
        using (var message = new WireWriter())
        {
            foreach (string path in new[] { "a.txt", "missing", "link", "linkdir/secret", "dir", "big.bin", "b.txt" })
            {
                BatchCodec.WritePath(body, message, path);
            }
        }

        await peer.SendBodyAsync(1, body.ToArray());

        using MemoryStream answer = await peer.ReadBodyAsync(1);
        var results = new List<string>();
        byte[] buffer = new byte[BatchCodec.MaxResult];
        while (BatchCodec.ReadFileRead(answer, buffer, out BatchCodec.ReadOutcome outcome, out byte[]? data, out SyncException? error))
        {
            results.Add(outcome switch
            {
                BatchCodec.ReadOutcome.Read => "read " + Encoding.UTF8.GetString(data!),
                BatchCodec.ReadOutcome.TooLarge => "too large",
                _ => "failed " + error!.ErrorId,
            });
        }

        Assert.Equal(["read first", $"failed {ErrorIds.SourceVanished}", $"failed {ErrorIds.UnsafePath}", $"failed {ErrorIds.UnsafePath}",
            $"failed {ErrorIds.FileReadError}", "too large", "read second"], results);
        Assert.Equal(0, await loop.FinishAsync());
    }

    [Theory]
    [InlineData("../outside/secret")]
    [InlineData("/etc/passwd")]
    [InlineData("")]
    public Task A_path_that_is_not_safe_ends_the_session(string path) => _sandbox.ExpectAbortAsync(ErrorIds.UnsafePath, RemoteSide.Source, async peer =>
    {
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ReadBatch, string.Empty).Write(w));
        var body = new MemoryStream();
        using (var message = new WireWriter())
        {
            BatchCodec.WritePath(body, message, path);
        }

        await peer.SendRawFrameAsync((byte)FrameKind.Data, 1, body.ToArray());
    }, root: _tree.Root);

    [Fact]
    public Task A_read_batch_is_refused_to_a_receiver() => _sandbox.ExpectAbortAsync(ErrorIds.ProtocolViolation, RemoteSide.Destination, async peer =>
        await peer.SendAsync(FrameKind.Request, 1, w => new AgentRequest(RequestType.ReadBatch, string.Empty).Write(w)));

    private static List<string> Describe(List<SyncItem> items) => items.ConvertAll(i => $"{i.Action} {i.ItemType} {i.RelativePath} {i.Reason} {i.Length}");
}
