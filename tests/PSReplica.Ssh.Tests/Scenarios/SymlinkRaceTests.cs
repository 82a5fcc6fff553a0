using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using PSReplica.Engine.Tests;
using PSReplica.Engine.Tests.Remote;
using Xunit.Abstractions;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>
/// Security invariant 2 (no write or read passes through a symlink; CVE-2024-12747) under a real race, for each
/// wiring: while a run is in progress, another thread swaps a directory or file for a symbolic link to somewhere outside
/// the trees, and back, in a tight loop. Destination race: a destination directory the run updates and deletes in
/// becomes a link to an outside directory holding files of the same names; nothing outside may be created, changed or
/// removed, nor the outside directory's own mode or time. Source race: a source file (or directory) becomes a link to
/// an outside secret (0600); the secret's content must never reach the replica.
/// </summary>
/// <remarks>The swapper starts when the run reports its first item and stops when the run ends: no sleeps, so the
/// interleaving differs from run to run, but every run is checked, and each case repeats the race on fresh trees for a
/// bounded time. Agent runs are paced by their bandwidth limit to last about a second; SFTP runs last as long as their
/// round trips; local runs are short and repeated. The destination race swaps as a user's shell would
/// (<c>mv sub sub.moved; ln -s outside sub</c>, and back). The source races exchange the name with a prepared link in
/// one renameat2(RENAME_EXCHANGE): with mv and ln the name is missing for most of each cycle, so a reader mostly meets
/// ENOENT (SourceVanished) and rarely the link, and a run that follows links went unnoticed. The "outside" directory is
/// beside the trees in the case's own temp directory, not a shared /outside.</remarks>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SymlinkRaceTests(TestSshServer server, ITestOutputHelper output) : IClassFixture<TestSshServer>, IDisposable
{
    private const int Files = 120;
    private const int FileLength = 4096;
    private const int MaxIterations = 20;
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(2.5);

    /// <summary>About a second per run for the agent wirings (their wire is paced). Local runs are not paced: the local
    /// throttle costs every small file two whole chunks (a tenth of a second), which would make one run take 12 s; a
    /// local run takes some 50 ms, and the budget repeats it instead.</summary>
    private const long BytesPerSecond = Files * FileLength;

    private readonly TestSshServer _server = server;
    private readonly ITestOutputHelper _output = output;
    private SshSession? _session;
    private SftpSession? _sftp;

    public static TheoryData<Wiring> Wirings => [Wiring.Local, Wiring.AgentPush, Wiring.AgentPull, Wiring.SftpPush];

    /// <summary>The destination race over every wiring that can hold it by construction. SFTP (version 3, OpenSSH's
    /// sftp-server) resolves every path it is given on the server, following links, and has no request relative to an
    /// open directory: a writer on the server who swaps a destination directory for a link while an SFTP push runs can
    /// redirect it. That is documented (about_PSReplica, README "Security") as the SFTP fallback's limit; the agent is
    /// the wiring that holds it, and these cases prove that it does.</summary>
    public static TheoryData<Wiring> DestinationWirings => [Wiring.Local, Wiring.AgentPush, Wiring.AgentPull];

    public void Dispose()
    {
        _sftp?.Dispose();
        _session?.Dispose();
    }

    [Theory]
    [MemberData(nameof(DestinationWirings))]
    public async Task A_destination_directory_swapped_for_a_link_never_lets_the_run_touch_what_it_points_to(Wiring wiring)
    {
        await RepeatAsync(wiring, async (root, iteration) =>
        {
            string src = Path.Join(root, "src");
            string dst = Path.Join(root, "dst");
            string outside = Path.Join(root, "outside");
            for (int i = 0; i < Files; i++)
            {
                Write(src, $"sub/f{i:D3}.txt", Content("new", i), 0x1A4, TestTree.BaseTime + i);
                Write(dst, $"sub/f{i:D3}.txt", Content("old", i), 0x1A4, TestTree.BaseTime - 1000);
                Write(outside, $"f{i:D3}.txt", Content("outside", i), 0x1A0, TestTree.BaseTime - 5000);
            }

            for (int i = 0; i < Files / 3; i++)
            {
                Write(dst, $"sub/x{i:D3}.txt", Content("extraneous", i), 0x1A4, TestTree.BaseTime - 1000);
                Write(outside, $"x{i:D3}.txt", Content("outside extraneous", i), 0x1A0, TestTree.BaseTime - 5000);
            }

            Assert.Equal(0, Posix.Chmod(Path.Join(src, "sub"), 0x1C0));
            Assert.Equal(0, Posix.Chmod(outside, 0x1E8));
            TestTree.SetTime(outside, TestTree.BaseTime - 9000, 9);
            List<string> before = TreeSnapshot.Describe(root, ["outside"], TimeGranularity.Nanoseconds, long.MaxValue);

            string sub = Path.Join(dst, "sub");
            long swaps = await RunWhileSwappingAsync(wiring, new SyncOptions { Source = src, Destination = dst, Delete = true },
                () => SwapForLink(sub, sub + ".moved", outside));

            List<string> after = TreeSnapshot.Describe(root, ["outside"], TimeGranularity.Nanoseconds, long.MaxValue);
            Assert.True(before.SequenceEqual(after),
                $"iteration {iteration}, {swaps} swaps: the run over {wiring} changed the outside directory through the link: {TreeSnapshot.Difference(before, after)}");
            return swaps;
        });
    }

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task A_source_file_swapped_for_a_link_never_carries_the_secret_into_the_replica(Wiring wiring)
    {
        await RepeatAsync(wiring, async (root, iteration) =>
        {
            string src = Path.Join(root, "src");
            string secret = Secret(root, out string marker);
            for (int i = 0; i < Files; i++)
            {
                Write(src, $"sub/f{i:D3}.txt", Content("source", i), 0x1A4, TestTree.BaseTime + i);
            }

            // Every fourth file has a twin link to the secret outside the source, exchanged with it atomically.
            var pairs = new List<(string Victim, string Link)>();
            for (int i = 0; i < Files; i += 4)
            {
                string link = Path.Join(root, "links", $"f{i:D3}.txt");
                Directory.CreateDirectory(Path.GetDirectoryName(link)!);
                File.CreateSymbolicLink(link, secret);
                pairs.Add((Path.Join(src, $"sub/f{i:D3}.txt"), link));
            }

            long swaps = await RunWhileSwappingAsync(wiring, new SyncOptions { Source = src, Destination = Path.Join(root, "dst") },
                () => ExchangeAll(pairs));

            AssertSecretAbsent(Path.Join(root, "dst"), marker, wiring, iteration, swaps);
            return swaps;
        });
    }

    [Theory]
    [MemberData(nameof(Wirings))]
    public async Task A_source_directory_swapped_for_a_link_never_carries_the_secret_into_the_replica(Wiring wiring)
    {
        await RepeatAsync(wiring, async (root, iteration) =>
        {
            string src = Path.Join(root, "src");
            string secretDirectory = Path.Join(root, "outside", "secrets");
            string marker = "SECRET-" + Guid.NewGuid().ToString("N");
            for (int i = 0; i < Files; i++)
            {
                string directory = i % 2 == 0 ? "sub" : "swapped";
                Write(src, $"{directory}/f{i:D3}.txt", Content("source", i), 0x1A4, TestTree.BaseTime + i);
                // Same names, sizes and times as the files the source directory holds: nothing but the content tells them apart.
                Write(secretDirectory, $"f{i:D3}.txt", SecretContent(marker), 0x180, TestTree.BaseTime + i);
            }

            string link = Path.Join(root, "links", "swapped");
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            File.CreateSymbolicLink(link, secretDirectory);
            (string, string)[] pair = [(Path.Join(src, "swapped"), link)];
            long swaps = await RunWhileSwappingAsync(wiring, new SyncOptions { Source = src, Destination = Path.Join(root, "dst") },
                () => ExchangeAll(pair));

            AssertSecretAbsent(Path.Join(root, "dst"), marker, wiring, iteration, swaps);
            return swaps;
        });
    }

    /// <summary>Runs <paramref name="race"/> on fresh trees until <see cref="s_budget"/> is spent, at least once and at
    /// most <see cref="MaxIterations"/> times, and expects the swapper to have swapped during the runs.</summary>
    private async Task RepeatAsync(Wiring wiring, Func<string, int, Task<long>> race)
    {
        var clock = Stopwatch.StartNew();
        long swaps = 0;
        int iteration = 0;
        while (iteration < MaxIterations && (iteration == 0 || clock.Elapsed < s_budget))
        {
            using var root = new TempDirectory();
            swaps += await race(root.Path, iteration);
            iteration++;
        }

        _output.WriteLine($"{wiring}: {iteration} runs, {swaps} swaps during them, {clock.ElapsedMilliseconds} ms");
        // A race that never happened proves nothing.
        Assert.True(swaps > 0, $"the swapper never swapped while a run over {wiring} was in progress");
    }

    /// <summary>Runs <paramref name="options"/> over <paramref name="wiring"/> (an agent's wire paced) and calls <paramref name="swap"/> in
    /// a loop on its own thread from the run's first item until the run ends. Per-item errors and a failed run are both
    /// outcomes the race may cause; only what the run did matters. Returns the swaps made while the run was going.</summary>
    private async Task<long> RunWhileSwappingAsync(Wiring wiring, SyncOptions options, Action swap)
    {
        var observer = new FirstItemObserver();
        var clock = Stopwatch.StartNew();
        long firstItemAt = -1;
        long swaps = 0;
        Exception? swapperFailure = null;
        int running = 1;
        var swapper = new Thread(() =>
        {
            observer.FirstItem.Wait();
            firstItemAt = clock.ElapsedMilliseconds;
            try
            {
                while (Volatile.Read(ref running) == 1)
                {
                    swap();
                    Interlocked.Increment(ref swaps);
                }
            }
            catch (Exception ex)
            {
                // Kept for the test thread: an exception on this thread would end the test host.
                swapperFailure = ex;
            }
        })
        { IsBackground = true, Name = "symlink swapper" };
        swapper.Start();

        Task run = wiring switch
        {
            Wiring.Local => Task.Run(() => LocalReplicator.Run(options, observer, CancellationToken.None)),
            Wiring.AgentPush or Wiring.AgentPull => RunAgentAsync(wiring == Wiring.AgentPush ? RemoteSide.Destination : RemoteSide.Source, options, observer),
            Wiring.SftpPush => Task.Run(() => SftpReplicator.Open(Sftp(), RemoteSide.Destination, options.Destination).Run(options, observer, CancellationToken.None)),
            _ => throw new ArgumentOutOfRangeException(nameof(wiring)),
        };
        try
        {
            await run.WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch (SyncException ex)
        {
            _output.WriteLine($"{wiring}: the run ended with {ex.ErrorId}: {ex.Message}");
        }
        finally
        {
            long during = Interlocked.Read(ref swaps);
            Volatile.Write(ref running, 0);
            observer.FirstItem.Set();
            swapper.Join();
            swaps = during;
        }

        Assert.Null(swapperFailure);
        _output.WriteLine($"{wiring}: first item at {firstItemAt} ms, run ended at {clock.ElapsedMilliseconds} ms, {observer.Items} items, {observer.Errors.Count} errors ("
            + string.Join(", ", observer.Errors.GroupBy(e => e.ErrorId).Select(g => $"{g.Key} x{g.Count()}")) + ")");
        return swaps;
    }

    private static async Task RunAgentAsync(RemoteSide side, SyncOptions options, ISyncObserver observer)
    {
        await using Loopback loop = Loopback.WithAgent();
        await using (RemoteReplicator replicator = await RemoteReplicator.ConnectAsync(loop.ControllerIn, loop.ControllerOut, side,
            side == RemoteSide.Destination ? options.Destination : options.Source, new RemoteSessionOptions { BandwidthLimit = BytesPerSecond },
            CancellationToken.None))
        {
            await Task.Run(() => replicator.Run(options, observer, CancellationToken.None));
        }

        await loop.FinishAsync();
    }

    private SftpSession Sftp()
    {
        _session ??= SshConnector.Connect(_server.Options());
        return _sftp ??= _session.OpenSftp();
    }

    /// <summary>One swap and back: <c>mv path moved; ln -s target path</c>, then <c>rm path; mv moved path</c>. Each
    /// step may find the run got there first (a name it created or removed); then the step is skipped. Nothing here
    /// ever follows a link: rename and unlink act on the names themselves.</summary>
    private static void SwapForLink(string path, string moved, string target)
    {
        if (Posix.Rename(path, moved) == 0)
        {
            try
            {
                File.CreateSymbolicLink(path, target);
            }
            catch (IOException)
            {
                // The run made the name again in between.
            }
        }

        if (Posix.Stat(path, follow: false, out StatInfo info) == 0 && info.FileType == Posix.SIflnk)
        {
            _ = Posix.Unlink(path);
        }

        _ = Posix.Rename(moved, path);
    }

    /// <summary>Exchanges each name with its twin link (renameat2 RENAME_EXCHANGE: the name is never missing, so the run
    /// finds the link as often as the file), then exchanges them back.</summary>
    private static void ExchangeAll(IReadOnlyList<(string Victim, string Link)> pairs)
    {
        foreach ((string victim, string link) in pairs)
        {
            Assert.Equal(0, RenameExchange.Exchange(victim, link));
        }

        foreach ((string victim, string link) in pairs)
        {
            Assert.Equal(0, RenameExchange.Exchange(victim, link));
        }
    }

    private static string Secret(string root, out string marker)
    {
        marker = "SECRET-" + Guid.NewGuid().ToString("N");
        string path = Path.Join(root, "outside", "secret");
        Write(Path.Join(root, "outside"), "secret", SecretContent(marker), 0x180, TestTree.BaseTime);
        return path;
    }

    /// <summary>The marker repeated to a source file's length, so that a size check alone cannot tell it from one.</summary>
    private static byte[] SecretContent(string marker)
    {
        var text = new StringBuilder(FileLength + marker.Length);
        while (text.Length < FileLength)
        {
            text.Append(marker).Append('\n');
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, FileLength));
    }

    /// <summary>No regular file in the replica (temp and partial files included) holds the marker; links are not followed,
    /// not even to a directory: a run that scanned the swapped directory while it was the link copies the link, as rsync -a
    /// does, and the secret behind it is not in the replica (Directory.Enumerate* recursed through it: a false alarm in CI).</summary>
    private static void AssertSecretAbsent(string replica, string marker, Wiring wiring, int iteration, long swaps)
    {
        if (!Directory.Exists(replica))
        {
            return;
        }

        byte[] needle = Encoding.ASCII.GetBytes(marker);
        var leaked = new List<string>();
        foreach (string path in TestTree.Walk(replica))
        {
            if (Posix.Stat(path, follow: false, out StatInfo info) == 0 && info.FileType == Posix.SIfreg
                && File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0)
            {
                leaked.Add(Path.GetRelativePath(replica, path));
            }
        }

        Assert.True(leaked.Count == 0, $"iteration {iteration}, {swaps} swaps: the secret reached the replica over {wiring} in {string.Join(", ", leaked)}");
    }

    private static byte[] Content(string what, int i) =>
        Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"{what} {i:D3} ", FileLength / 8)).PadRight(FileLength, '.')[..FileLength]);

    private static void Write(string root, string relative, byte[] content, int mode, long seconds)
    {
        string path = Path.Join(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        Assert.Equal(0, Posix.Chmod(path, mode));
        TestTree.SetTime(path, seconds);
    }

    /// <summary>Counts what the run reports and opens the swapper's gate at the first item.</summary>
    private sealed class FirstItemObserver : ISyncObserver
    {
        private int _items;

        public ManualResetEventSlim FirstItem { get; } = new();

        public ConcurrentQueue<SyncException> Errors { get; } = new();

        public int Items => Volatile.Read(ref _items);

        public void OnItem(SyncItem item)
        {
            Interlocked.Increment(ref _items);
            FirstItem.Set();
        }

        public void OnError(SyncException error)
        {
            Errors.Enqueue(error);
            FirstItem.Set();
        }

        public void OnWarning(string message)
        {
        }

        public void OnProgress(SyncProgress progress)
        {
        }

        public bool ShouldProcess(SyncItem item) => true;
    }
}
