using System.Globalization;
using System.Threading.Channels;
using PSReplica.Engine.Tests;
using PSReplica.Engine.Watching;
using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>-Watch pushing to the test sshd (issue 17): one connection and agent for every batch; the server away (a
/// forwarder switched off: the session cut, new connections shut) is waited for with back-off and -Verbose says so; once
/// it is back, a catch-up sync of the whole tree brings what changed meanwhile. Every wait is for an event, with a bound
/// only to fail instead of hanging.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(SshServerGroup.Name)]
public sealed class RemoteWatchTests(TestSshServer server) : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly BackOff Quick = new(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(400));

    private readonly TestSshServer _server = server;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(RemoteTransport.Agent)]
    [InlineData(RemoteTransport.Sftp)]
    public async Task A_server_away_is_waited_for_and_caught_up_with_over_one_connection_while_it_lasts(RemoteTransport transport)
    {
        string source = _dir.Combine("source");
        string destination = _dir.Combine("destination");
        Directory.CreateDirectory(source);
        Put(source, "first.txt", "first");
        using var forwarder = new SwitchableForwarder(_server.Port, up: false);
        var observer = new WatchObserver();
        using var watch = new RunningWatch(Settings(forwarder, destination) with { Transport = transport }, source, destination, observer);

        // Away from the start: nothing is synced, the wait is said once as a warning and each try by -Verbose.
        await observer.WaitForVerboseAsync("Watch: cannot reach 127.0.0.1 (attempt 2:");
        Assert.Single(observer.Warnings, w => w.StartsWith("Watch: 127.0.0.1 cannot be reached (", StringComparison.Ordinal));
        Assert.False(Directory.Exists(destination));
        forwarder.Up();
        SyncOptions first = await watch.NextSyncAsync();
        Assert.Null(first.Scope);
        Assert.Equal("first", File.ReadAllText(Path.Join(destination, "first.txt")));
        Assert.Contains(observer.Verbose, line => line.StartsWith("Watch: connected to 127.0.0.1 at last after ", StringComparison.Ordinal));

        // While the connection lasts, each batch goes through it: no new connection, and only what changed is planned.
        // (The agent's session took the destination for missing, as it was when it opened; the first batch after the sync
        // that made it opens one that sees it.)
        Put(source, "second.txt", "second");
        SyncOptions second = await watch.NextSyncAsync();
        Assert.NotNull(second.Scope);
        Assert.Equal("second", File.ReadAllText(Path.Join(destination, "second.txt")));
        int connections = observer.Count("Connected to ");
        Assert.Equal(transport == RemoteTransport.Agent ? 2 : 1, connections);
        Put(source, "third.txt", "third");
        _ = await watch.NextSyncAsync();
        Assert.Equal("third", File.ReadAllText(Path.Join(destination, "third.txt")));
        Assert.Equal(connections, observer.Count("Connected to "));

        // The server goes away: the batch made while it is away is not lost but waits, and the catch-up brings it and the
        // change that came while the watch was reconnecting.
        forwarder.Down();
        int tries = observer.Count("Watch: cannot reach ");
        Put(source, "while-away.txt", "away");
        await observer.WaitForVerboseAsync("Watch: cannot reach 127.0.0.1 (attempt 2:", already: 1);
        File.Delete(Path.Join(source, "first.txt"));
        Put(source, "second.txt", "second, changed while away");
        Assert.Single(observer.Warnings, w => w.StartsWith("Watch: the connection to 127.0.0.1 was lost (", StringComparison.Ordinal));
        Assert.True(observer.Count("Watch: cannot reach ") > tries);
        forwarder.Up();
        SyncOptions catchUp = await watch.NextSyncAsync();
        Assert.Null(catchUp.Scope);
        Assert.Contains(observer.Verbose, line => line.StartsWith("Watch: connected to 127.0.0.1 again after ", StringComparison.Ordinal));
        Assert.Contains("Watch: catching up with 127.0.0.1: the whole tree is planned, for what changed while the connection was down", observer.Verbose);
        Assert.Equal(connections + 1, observer.Count("Connected to "));
        Assert.Equal("away", File.ReadAllText(Path.Join(destination, "while-away.txt")));
        Assert.Equal("second, changed while away", File.ReadAllText(Path.Join(destination, "second.txt")));
        // Without -Delete the deleted file stays, as in a one-shot run.
        Assert.True(File.Exists(Path.Join(destination, "first.txt")));

        await watch.StopAsync();
        Assert.Empty(observer.Errors);
        Assert.Empty(Directory.GetFiles(destination, ".~psr*", SearchOption.AllDirectories));
        Assert.DoesNotContain(observer.Verbose, line => line.Contains("SFTP, the fallback", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_delete_the_replica_equals_the_source_after_the_catch_up()
    {
        string source = _dir.Combine("source");
        string destination = _dir.Combine("destination");
        Directory.CreateDirectory(Path.Join(source, "sub"));
        File.WriteAllText(Path.Join(source, "sub", "a.txt"), "a");
        Directory.CreateDirectory(Path.Join(source, "keep"));
        File.WriteAllText(Path.Join(source, "keep", "k.txt"), "k");
        TestTree.SetTime(Path.Join(source, "keep"), TestTree.BaseTime, 250_000_000);
        Put(source, "b.txt", "b");
        // A replica that is there already (made by an earlier run): the agent's one session sees it from the start.
        Directory.CreateDirectory(destination);
        using var forwarder = new SwitchableForwarder(_server.Port);
        var observer = new WatchObserver();
        using var watch = new RunningWatch(Settings(forwarder, destination), source, destination, observer, delete: true);
        _ = await watch.NextSyncAsync();

        // A batch cut off between its last item and its directories' times leaves a directory's time as the writes inside
        // made it, in the same second as the source's: the catch-up, which cannot know what the lost batch left, compares
        // directories' times to the nanosecond and sets it (a one-shot run, as rsync, compares whole seconds).
        TestTree.SetTime(Path.Join(destination, "keep"), TestTree.BaseTime, 267_000_000);
        forwarder.Down();
        Directory.Delete(Path.Join(source, "sub"), recursive: true);
        Put(source, "c.txt", "c");
        await observer.WaitForVerboseAsync("Watch: cannot reach 127.0.0.1 (attempt 1:");
        forwarder.Up();
        SyncOptions catchUp;
        do
        {
            catchUp = await watch.NextSyncAsync();
        }
        while (catchUp.Scope is not null);

        Assert.Equal(["b.txt", "c.txt", "keep", "keep/k.txt"], TestTree.Listing(destination));
        Assert.Equal(250_000_000u, TestTree.Stat(Path.Join(destination, "keep")).MtimeNanoseconds);
        await watch.StopAsync();
        Assert.Empty(observer.Errors);
    }

    /// <summary>Through -SshCommand's ssh process as well: the process ends with the connection, and a new one is started
    /// once the server answers again.</summary>
    [Fact]
    public async Task Through_the_system_ssh_a_lost_connection_is_made_again_and_caught_up_with()
    {
        string source = _dir.Combine("source");
        string destination = _dir.Combine("destination");
        Directory.CreateDirectory(source);
        Directory.CreateDirectory(destination);
        Put(source, "first.txt", "first");
        using var forwarder = new SwitchableForwarder(_server.Port);
        RemoteRunSettings settings = Settings(forwarder, destination);
        settings = settings with
        {
            Connection = settings.Connection with
            {
                SshCommand = $"ssh -F '{_server.EmptyConfigPath}' -i '{_server.UserKeyPath}' -o 'UserKnownHostsFile={settings.Connection.KnownHostsPath}' "
                    + "-o StrictHostKeyChecking=yes -o BatchMode=yes",
            },
        };
        var observer = new WatchObserver();
        using var watch = new RunningWatch(settings, source, destination, observer, delete: true);
        _ = await watch.NextSyncAsync();
        Assert.Equal("first", File.ReadAllText(Path.Join(destination, "first.txt")));

        forwarder.Down();
        Put(source, "second.txt", "second");
        await observer.WaitForVerboseAsync("Watch: cannot reach 127.0.0.1 (attempt 2:");
        forwarder.Up();
        SyncOptions catchUp;
        do
        {
            catchUp = await watch.NextSyncAsync();
        }
        while (catchUp.Scope is not null);

        Assert.Equal("second", File.ReadAllText(Path.Join(destination, "second.txt")));
        Assert.Single(observer.Warnings, w => w.StartsWith("Watch: the connection to 127.0.0.1 was lost (", StringComparison.Ordinal));
        await watch.StopAsync();
        Assert.Empty(observer.Errors);
    }

    /// <summary>A directory renamed in the source is renamed on the server too (its files keep their inodes: nothing
    /// crossed the wire again), over the agent and over SFTP.</summary>
    [Theory]
    [InlineData(RemoteTransport.Agent)]
    [InlineData(RemoteTransport.Sftp)]
    public async Task A_directory_renamed_in_the_source_is_renamed_on_the_server(RemoteTransport transport)
    {
        string source = _dir.Combine("source");
        string destination = _dir.Combine("destination");
        Directory.CreateDirectory(Path.Join(source, "big", "sub"));
        for (int i = 0; i < 10; i++)
        {
            Put(source, $"big/sub/f{i}.txt", new string('x', 1000 + i));
        }

        Directory.CreateDirectory(destination);
        using var forwarder = new SwitchableForwarder(_server.Port);
        var observer = new WatchObserver();
        using var watch = new RunningWatch(Settings(forwarder, destination) with { Transport = transport }, source, destination, observer, delete: true);
        _ = await watch.NextSyncAsync();
        ulong inode = new FileInfo(Path.Join(destination, "big/sub/f3.txt")).Exists ? Inode(Path.Join(destination, "big/sub/f3.txt")) : 0;

        Directory.Move(Path.Join(source, "big"), Path.Join(source, "renamed"));
        await observer.WaitForVerboseAsync("Watch: 'big' was renamed 'renamed' in the source");
        SyncOptions batch;
        do
        {
            batch = await watch.NextSyncAsync();
        }
        while (batch.Scope?.Moves.Count is null or 0);

        Assert.Contains("Watch: 'big' was renamed 'renamed' in the source, and at the destination too (not copied again)", observer.Verbose);
        Assert.Equal(inode, Inode(Path.Join(destination, "renamed/sub/f3.txt")));
        Assert.False(Directory.Exists(Path.Join(destination, "big")));
        Assert.Equal(TestTree.Listing(source), TestTree.Listing(destination));
        await watch.StopAsync();
        Assert.Empty(observer.Errors);
    }

    private static ulong Inode(string path)
    {
        Assert.Equal(0, PSReplica.Engine.Native.Posix.Stat(path, follow: false, out PSReplica.Engine.Native.StatInfo info));
        return info.Inode;
    }

    [Fact]
    public void A_remote_source_is_refused_before_anything_is_touched()
    {
        string destination = _dir.Combine("local");
        RemoteRunSettings settings = Settings(null, _dir.Combine("remote")) with { Side = RemoteSide.Source };
        var error = Assert.Throws<SyncException>(() => RemoteWatch.Run(settings, new SyncOptions { Source = _dir.Combine("remote"), Destination = destination },
            new WatchSettings(TimeSpan.FromMilliseconds(20), null), new WatchObserver(), 0, TimeSpan.Zero, _ => throw new InvalidOperationException("no watcher"),
            Quick, null, CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidParameterCombination, error.ErrorId);
        Assert.False(Directory.Exists(destination));
    }

    [Fact]
    public async Task A_host_key_that_does_not_match_ends_the_watch_instead_of_being_tried_again()
    {
        string source = _dir.Combine("source");
        Directory.CreateDirectory(source);
        using var forwarder = new SwitchableForwarder(_server.Port);
        RemoteRunSettings settings = Settings(forwarder, _dir.Combine("destination"));
        File.WriteAllText(settings.Connection.KnownHostsPath!,
            $"[127.0.0.1]:{forwarder.Port.ToString(CultureInfo.InvariantCulture)} {string.Join(' ', File.ReadAllText(_server.OtherKeyPath + ".pub").Split(' ')[..2])}\n");
        var observer = new WatchObserver();
        using var watch = new RunningWatch(settings, source, _dir.Combine("destination"), observer);
        var error = await Assert.ThrowsAsync<SyncException>(() => watch.Task.WaitAsync(Bound));
        Assert.Equal(ErrorIds.HostKeyMismatch, error.ErrorId);
        Assert.Equal(0, observer.Count("Watch: cannot reach "));
    }

    /// <summary>Writes a file in one step, as the watch should see it: written beside the tree, then renamed into it (a
    /// file written in place could be seen, and synced, half written on a slow machine, and a later batch mend it).</summary>
    private void Put(string source, string name, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Join(source, name))!);
        string staged = _dir.Combine("staged-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture));
        File.WriteAllText(staged, text);
        File.Move(staged, Path.Join(source, name), overwrite: true);
    }

    private RemoteRunSettings Settings(SwitchableForwarder? forwarder, string remotePath)
    {
        int port = forwarder?.Port ?? _server.Port;
        string knownHosts = _dir.Combine("known_hosts-" + port.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(knownHosts, $"[127.0.0.1]:{port.ToString(CultureInfo.InvariantCulture)} {string.Join(' ', _server.HostKeyLine.Split(' ')[..2])}\n");
        return new RemoteRunSettings
        {
            Connection = new RemoteConnectionSettings
            {
                Remote = new RemotePath(new SshEndpoint(_server.Host, _server.User, port), remotePath),
                KeyFilePaths = [_server.UserKeyPath],
                KnownHostsPath = knownHosts,
                ConfigPath = _server.EmptyConfigPath,
                ConnectTimeout = TimeSpan.FromSeconds(20),
                IdleTimeout = RemoteConnectionSettings.WatchIdleTimeout,
                AgentDirectory = SolutionOutput.Of("PSReplica.Agent"),
            },
            Side = RemoteSide.Destination,
        };
    }

    /// <summary>A watch running on a thread of its own, with the syncs it made in order.</summary>
    private sealed class RunningWatch : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Channel<SyncOptions> _syncs = Channel.CreateUnbounded<SyncOptions>();

        private readonly WatchObserver _observer;

        public RunningWatch(RemoteRunSettings settings, string source, string destination, WatchObserver observer, bool delete = false)
        {
            _observer = observer;
            var options = new SyncOptions { Source = source, Destination = destination, Delete = delete };
            Task = Task.Factory.StartNew(() => RemoteWatch.Run(settings, options, new WatchSettings(TimeSpan.FromMilliseconds(30), null), observer, 0,
                TimeSpan.Zero, root => TreeWatcher.Start(options.FileSystem, root), Quick, done => _syncs.Writer.TryWrite(done), _stop.Token),
                TaskCreationOptions.LongRunning);
        }

        public Task Task { get; }

        public async Task<SyncOptions> NextSyncAsync()
        {
            using var bound = new CancellationTokenSource(Bound);
            Task<SyncOptions> next = _syncs.Reader.ReadAsync(bound.Token).AsTask();
            if (await Task.WhenAny(next, Task) == Task)
            {
                await Task;
            }

            try
            {
                return await next;
            }
            catch (OperationCanceledException)
            {
                Assert.Fail("no sync came; the watch said: " + _observer.Said());
                throw;
            }
        }

        public async Task StopAsync()
        {
            _stop.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WaitAsync(Bound));
        }

        public void Dispose()
        {
            _stop.Cancel();
            try
            {
                Task.Wait(Bound);
            }
            catch (AggregateException)
            {
                // The test saw, or did not need, how it ended.
            }

            _stop.Dispose();
        }
    }

    /// <summary>Records what the watch says, and lets a test wait for a verbose line.</summary>
    private sealed class WatchObserver : ISyncObserver
    {
        private readonly object _gate = new();

        private readonly List<string> _verbose = [];
        private readonly List<string> _warnings = [];
        private readonly List<SyncException> _errors = [];

        // Copies taken under the lock: the watch's threads add while a test reads (enumerating the lists themselves
        // raced the watch: "Collection was modified").
        public List<string> Verbose => Snapshot(_verbose);

        public List<string> Warnings => Snapshot(_warnings);

        public List<SyncException> Errors => Snapshot(_errors);

        private List<T> Snapshot<T>(List<T> list)
        {
            lock (_gate)
            {
                return [.. list];
            }
        }

        public bool WantsVerbose => true;

        public bool WantsDebug => false;

        public bool ConfirmsEachAction => false;

        public int Count(string start)
        {
            lock (_gate)
            {
                return _verbose.Count(line => line.StartsWith(start, StringComparison.Ordinal));
            }
        }

        public string Said()
        {
            lock (_gate)
            {
                return string.Join(" | ", _verbose.Concat(_warnings.Select(w => "WARNING " + w)).Concat(_errors.Select(e => "ERROR " + e.Message)));
            }
        }

        /// <summary>Waits until more than <paramref name="already"/> verbose lines start with <paramref name="start"/>.</summary>
        public Task WaitForVerboseAsync(string start, int already = 0)
        {
            long deadline = Environment.TickCount64 + (long)Bound.TotalMilliseconds;
            lock (_gate)
            {
                while (_verbose.Count(line => line.StartsWith(start, StringComparison.Ordinal)) <= already)
                {
                    long left = deadline - Environment.TickCount64;
                    Assert.True(left > 0, $"no verbose line starting '{start}' came; said: {string.Join(" | ", _verbose)}");
                    Monitor.Wait(_gate, TimeSpan.FromMilliseconds(left));
                }
            }

            return Task.CompletedTask;
        }

        public void OnVerbose(string message)
        {
            lock (_gate)
            {
                _verbose.Add(message);
                Monitor.PulseAll(_gate);
            }
        }

        public void OnWarning(string message)
        {
            lock (_gate)
            {
                _warnings.Add(message);
            }
        }

        public void OnError(SyncException error)
        {
            lock (_gate)
            {
                _errors.Add(error);
            }
        }

        public void OnItem(SyncItem item)
        {
        }

        public void OnDebug(string message)
        {
        }

        public void OnProgress(SyncProgress progress)
        {
        }

        public bool ShouldProcess(SyncItem item) => true;
    }
}
