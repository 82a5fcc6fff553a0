using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Client;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Tests.Remote;

public sealed class AgentSessionTests
{
    [Theory]
    [InlineData(RemoteSide.Source, 1)]
    [InlineData(RemoteSide.Destination, 2)]
    public async Task The_streamed_listing_equals_the_local_listing(RemoteSide role, int seed)
    {
        using var tree = new TestTree();
        RandomTree.Create(tree.Source, seed, files: 120);
        Dictionary<string, List<FileEntry>> local = RandomTree.ListLocally(tree.Source);

        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(role, tree.Source))
        {
            Assert.NotNull(client.RootEntry);
            Assert.Equal(Handshake.MaxVersion, client.ProtocolVersion);
            RemoteListing listing = await client.ListAsync(string.Empty, recursive: true, CancellationToken.None);
            foreach ((string directory, List<FileEntry> expected) in local)
            {
                List<FileEntry> actual = listing.List(directory);
                Assert.Equal(expected.Count, actual.Count);
                for (int i = 0; i < expected.Count; i++)
                {
                    FileEntry a = expected[i];
                    FileEntry b = actual[i];
                    // The compact listing sends device and inode only for directories and items of several links; any
                    // other item gets an identity of its own that matches nothing.
                    (ulong inode, ulong device) = (a.Inode, a.Device);
                    if (b.Device == CompactListingCodec.NoDevice)
                    {
                        Assert.NotEqual(EntryKind.Directory, a.Kind);
                        (inode, device) = (b.Inode, b.Device);
                    }

                    Assert.Equal(
                        (a.Name, a.Kind, a.Length, a.MtimeSeconds, a.MtimeNanoseconds, a.Permissions, a.Uid, a.Gid, inode, device, a.LinkTarget),
                        (b.Name, b.Kind, b.Length, b.MtimeSeconds, b.MtimeNanoseconds, b.Permissions, b.Uid, b.Gid, b.Inode, b.Device, b.LinkTarget));
                    Assert.Equal(a.FullPath, b.FullPath);
                }
            }

            await listing.Completion;
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    [Fact]
    public async Task A_missing_source_root_is_SourceNotFound()
    {
        using var tree = new TestTree();
        await using Loopback loop = Loopback.WithAgent();
        var error = await Assert.ThrowsAsync<SyncException>(() => loop.ConnectAsync(RemoteSide.Source, Path.Join(tree.Root, "missing")));
        Assert.Equal(ErrorIds.SourceNotFound, error.ErrorId);
        Assert.Equal(1, await loop.Agent.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData(false, 3)]
    [InlineData(true, 4)]
    public async Task Push_file_by_file_replicates_bytes_times_and_modes(bool delta, int seed)
    {
        using TestTree tree = RandomTrees(delta, seed);

        await using Loopback loop = Loopback.WithAgent();
        long matched = 0;
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, tree.Destination))
        {
            if (client.RootEntry is null)
            {
                await client.CreateDirectoryAsync(string.Empty, Mode(0x1C0), CancellationToken.None);
            }

            Dictionary<string, List<FileEntry>> source = RandomTree.ListLocally(tree.Source);
            var directories = new List<(string Relative, FileEntry Entry)>();
            var transfers = new List<Task<TransferResult>>();
            var others = new List<Task>();
            foreach (string directory in Sorted(source.Keys))
            {
                foreach (FileEntry entry in source[directory])
                {
                    string relative = PeerNames.Join(directory, entry.Name);
                    string existing = Path.Join(tree.Destination, relative);
                    switch (entry.Kind)
                    {
                        case EntryKind.Directory:
                            directories.Add((relative, entry));
                            if (!Directory.Exists(existing))
                            {
                                await client.CreateDirectoryAsync(relative, Mode(0x1C0), CancellationToken.None);
                            }

                            break;
                        case EntryKind.SymbolicLink:
                            if (!Path.Exists(existing) && !File.Exists(existing) && new FileInfo(existing).LinkTarget is null)
                            {
                                others.Add(client.CreateSymbolicLinkAsync(relative, entry.LinkTarget!, Time(entry), CancellationToken.None));
                            }

                            break;
                        default:
                            transfers.Add(PushFileAsync(client, entry, relative, delta && File.Exists(existing)));
                            break;
                    }
                }
            }

            foreach (TransferResult result in await Task.WhenAll(transfers))
            {
                matched += result.MatchedBytes;
            }

            await Task.WhenAll(others);
            directories.Reverse();
            foreach ((string relative, FileEntry entry) in directories)
            {
                await client.SetAttributesAsync(relative, Full(entry), CancellationToken.None);
            }

            FileEntry root = DirectoryLister.Stat(tree.Source, string.Empty, follow: true, out _)!;
            await client.SetAttributesAsync(string.Empty, Full(root), CancellationToken.None);
        }

        Assert.Equal(0, await loop.FinishAsync());
        RandomTree.AssertSame(tree.Source, tree.Destination);
        Assert.Equal(delta, matched > 0);
        Assert.DoesNotContain(TestTree.Listing(tree.Destination), p => p.Contains(".~psr", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, 5)]
    [InlineData(true, 6)]
    public async Task Pull_file_by_file_replicates_bytes_times_and_modes(bool delta, int seed)
    {
        using TestTree tree = RandomTrees(delta, seed);

        Directory.CreateDirectory(tree.Destination);
        await using Loopback loop = Loopback.WithAgent();
        long matched = 0;
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, tree.Source))
        {
            RemoteListing listing = await client.ListAsync(string.Empty, recursive: true, CancellationToken.None);
            var pending = new Queue<string>();
            pending.Enqueue(string.Empty);
            var directories = new List<(string, FileEntry)>();
            var transfers = new List<Task<long>>();
            while (pending.Count > 0)
            {
                string directory = pending.Dequeue();
                foreach (FileEntry entry in listing.List(directory))
                {
                    string relative = PeerNames.Join(directory, entry.Name);
                    string target = Path.Join(tree.Destination, relative);
                    switch (entry.Kind)
                    {
                        case EntryKind.Directory:
                            Directory.CreateDirectory(target);
                            directories.Add((target, entry));
                            pending.Enqueue(relative);
                            break;
                        case EntryKind.SymbolicLink:
                            if (new FileInfo(target).LinkTarget is null)
                            {
                                File.CreateSymbolicLink(target, entry.LinkTarget!);
                            }

                            break;
                        default:
                            transfers.Add(PullFileAsync(client, entry, relative, target, delta && File.Exists(target)));
                            break;
                    }
                }
            }

            foreach (long m in await Task.WhenAll(transfers))
            {
                matched += m;
            }

            directories.Reverse();
            foreach ((string target, FileEntry entry) in directories)
            {
                Assert.Equal(0, Posix.Chmod(target, entry.Permissions));
                TestTree.SetTime(target, entry.MtimeSeconds, entry.MtimeNanoseconds);
            }
        }

        Assert.Equal(0, await loop.FinishAsync());
        RandomTree.AssertSame(tree.Source, tree.Destination, directoryTimes: false);
        Assert.Equal(delta, matched > 0);
    }

    [Fact]
    public async Task Many_requests_stay_in_flight_on_one_connection()
    {
        using var tree = new TestTree();
        for (int i = 0; i < 300; i++)
        {
            TestTree.Write(tree.Source, "f" + i, "content " + i);
        }

        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, tree.Source))
        {
            var reads = new List<Task<long>>();
            var sinks = new List<MemoryStream>();
            for (int i = 0; i < 300; i++)
            {
                var sink = new MemoryStream();
                sinks.Add(sink);
                reads.Add(client.ReadFileAsync("f" + i, sink, CancellationToken.None));
            }

            await Task.WhenAll(reads);
            for (int i = 0; i < 300; i++)
            {
                Assert.Equal("content " + i, System.Text.Encoding.UTF8.GetString(sinks[i].ToArray()));
            }
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    [Fact]
    public async Task A_per_file_error_leaves_the_session_usable()
    {
        using var tree = new TestTree();
        tree.Src("present", "x");
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, tree.Source))
        {
            var error = await Assert.ThrowsAsync<SyncException>(() => client.ReadFileAsync("absent", Stream.Null, CancellationToken.None));
            Assert.Equal(ErrorIds.SourceVanished, error.ErrorId);
            Assert.Equal(1, await client.ReadFileAsync("present", Stream.Null, CancellationToken.None));
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    [Fact]
    public async Task A_cancelled_upload_leaves_no_temp_file_and_the_session_usable()
    {
        using var tree = new TestTree();
        Directory.CreateDirectory(tree.Destination);
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Destination, tree.Destination))
        {
            using var cancel = new CancellationTokenSource();
            var source = new GatedStream(new byte[1 << 20]);
            Task upload = client.WriteFileAsync("big", source, 1 << 20, default, cancel.Token);
            await source.FirstRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upload);

            // The session goes on, and the abandoned temp file is gone once the agent has processed the cancellation.
            await client.WriteFileAsync("small", new MemoryStream([1, 2, 3]), 3, default, CancellationToken.None);
            await client.CreateDirectoryAsync("d", default, CancellationToken.None);
        }

        Assert.Equal(0, await loop.FinishAsync());
        Assert.Equal(["d", "small"], TestTree.Listing(tree.Destination));
    }

    [Fact]
    public async Task A_cancelled_download_frees_the_agent_for_more_requests_than_it_has_streams()
    {
        using var tree = new TestTree();
        File.WriteAllBytes(Path.Join(tree.Source, "big"), new byte[4 << 20]);
        tree.Src("small", "abc");
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, tree.Source))
        {
            // Each download stalls its reader after the first chunk and is then cancelled: if the agent kept each one
            // waiting for credit, it would run out of streams long before the loop ends.
            for (int i = 0; i < ProtocolLimits.MaxStreams + 10; i++)
            {
                using var cancel = new CancellationTokenSource();
                var sink = new StallingStream(cancel);
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReadFileAsync("big", sink, cancel.Token));
            }

            var small = new MemoryStream();
            Assert.Equal(3, await client.ReadFileAsync("small", small, CancellationToken.None));
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    [Fact]
    public async Task A_long_delta_search_reports_progress()
    {
        using var tree = new TestTree();
        byte[] data = new byte[20 << 20];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(Path.Join(tree.Source, "big"), data);
        await using Loopback loop = Loopback.WithAgent();
        var reports = new System.Collections.Concurrent.ConcurrentQueue<long>();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, tree.Source))
        {
            Signature signature = SignatureBuilder.Build(new MemoryStream(data), data.Length, null, CancellationToken.None);
            DeltaResult result = await client.ComputeDeltaAsync("big", signature, new DeltaStreamWriter(Stream.Null), CancellationToken.None, reports.Enqueue);
            Assert.Equal(data.Length, result.MatchedBytes);
        }

        Assert.Equal(0, await loop.FinishAsync());
        Assert.True(reports.Count >= 3, $"{reports.Count} progress reports");
        var ordered = new List<long>(reports);
        ordered.Sort();
        Assert.Equal(ordered, new List<long>(reports));
    }

    [Fact]
    public async Task Listing_through_a_symlink_is_refused_for_that_directory_only()
    {
        using var tree = new TestTree();
        TestTree.Write(tree.Root, "outside/secret", "s");
        tree.Src("a/f", "x");
        File.CreateSymbolicLink(Path.Join(tree.Source, "link"), Path.Join(tree.Root, "outside"));
        await using Loopback loop = Loopback.WithAgent();
        await using (AgentClient client = await loop.ConnectAsync(RemoteSide.Source, tree.Source))
        {
            RemoteListing refused = await client.ListAsync("link", recursive: true, CancellationToken.None);
            var error = Assert.Throws<SyncException>(() => refused.List("link"));
            Assert.Equal(ErrorIds.UnsafePath, error.ErrorId);
            await Assert.ThrowsAsync<SyncException>(() => client.ReadFileAsync("link/secret", Stream.Null, CancellationToken.None));

            RemoteListing listing = await client.ListAsync("a", recursive: true, CancellationToken.None);
            Assert.Equal("f", Assert.Single(listing.List("a")).Name);
            Assert.Null(client.Fault);
        }

        Assert.Equal(0, await loop.FinishAsync());
    }

    /// <summary>A destination that cancels the transfer at its first write.</summary>
    private sealed class StallingStream(CancellationTokenSource cancel) : MemoryStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancel.Cancel();
            return ValueTask.FromCanceled(cancellationToken);
        }
    }

    /// <summary>A source that hands out one chunk, then waits for cancellation.</summary>
    private sealed class GatedStream(byte[] data) : MemoryStream(data)
    {
        public TaskCompletionSource FirstRead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (FirstRead.Task.IsCompleted)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            FirstRead.TrySetResult();
            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, 1000)], cancellationToken);
        }
    }

    private static async Task<TransferResult> PushFileAsync(AgentClient client, FileEntry entry, string relative, bool delta)
    {
        await using var source = new FileStream(entry.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: false);
        if (!delta)
        {
            return await client.WriteFileAsync(relative, source, entry.Length, Full(entry), CancellationToken.None);
        }

        Signature signature = await client.BuildSignatureAsync(relative, null, CancellationToken.None);
        return await client.ApplyDeltaAsync(relative, relative, signature, source, entry.Length, Full(entry), CancellationToken.None);
    }

    private static async Task<long> PullFileAsync(AgentClient client, FileEntry entry, string relative, string target, bool delta)
    {
        string temp = target + ".part";
        long matched = 0;
        using (SafeFileHandle output = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            if (delta)
            {
                using SafeFileHandle basis = File.OpenHandle(target);
                long basisLength = RandomAccess.GetLength(basis);
                Signature signature = SignatureBuilder.Build(basis, basisLength, null, CancellationToken.None);
                using var writer = new PatchWriter(basis, basisLength, signature.BlockLength, output, entry.Length);
                DeltaResult result = await client.ComputeDeltaAsync(relative, signature, writer, CancellationToken.None);
                writer.Verify(result.Length, result.WholeFileHash);
                matched = writer.MatchedBytes;
            }
            else
            {
                var stream = new FileStream(output, FileAccess.Write, 1);
                Assert.Equal(entry.Length, await client.ReadFileAsync(relative, stream, CancellationToken.None));
                await stream.FlushAsync();
            }

            Assert.Equal(0, Posix.Fchmod(output, entry.Permissions));
            Assert.Equal(0, Posix.SetModificationTime(output, entry.MtimeSeconds, entry.MtimeNanoseconds));
        }

        File.Move(temp, target, overwrite: true);
        return matched;
    }

    /// <summary>Changes some files of a tree made by <see cref="RandomTree.Create"/>: a byte in the middle, an append.</summary>
    /// <summary>A random source; with <paramref name="delta"/>, the destination holds an older copy of everything, so that each
    /// file is rebuilt from its basis.</summary>
    private static TestTree RandomTrees(bool delta, int seed)
    {
        var tree = new TestTree();
        RandomTree.Create(tree.Source, seed, files: 60);
        if (delta)
        {
            RandomTree.Create(tree.Destination, seed, files: 60);
            Mutate(tree.Source, seed);
        }

        return tree;
    }

    private static void Mutate(string root, int seed)
    {
        var random = new Random(seed * 31);
        foreach (string path in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (new FileInfo(path).LinkTarget is not null || random.Next(2) == 0)
            {
                continue;
            }

            byte[] data = File.ReadAllBytes(path);
            if (data.Length > 10)
            {
                data[data.Length / 2] ^= 0xFF;
            }

            StatInfo before = TestTree.Stat(path);
            File.WriteAllBytes(path, [.. data, .. "tail"u8]);
            TestTree.SetTime(path, before.MtimeSeconds + 1, 123);
        }
    }

    private static List<string> Sorted(IEnumerable<string> keys)
    {
        var list = new List<string>(keys);
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    private static AttributeSet Mode(int mode) => new(AttributeFields.Mode, mode, 0, 0, 0, 0);

    private static AttributeSet Time(FileEntry entry) => new(AttributeFields.Time, 0, 0, 0, entry.MtimeSeconds, entry.MtimeNanoseconds);

    private static AttributeSet Full(FileEntry entry) =>
        new(AttributeFields.Mode | AttributeFields.Time, entry.Permissions, 0, 0, entry.MtimeSeconds, entry.MtimeNanoseconds);
}
