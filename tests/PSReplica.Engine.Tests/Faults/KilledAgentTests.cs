using System.Diagnostics;
using PSReplica.Engine.Client;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Engine.Tests.Faults;

/// <summary>Issue 18: the agent process (managed, and the native agent where it is built) killed with SIGKILL at seeded
/// pseudo-random points of a push (the agent is writing the destination) and of a pull (the controller is). The point is
/// a count of bytes the controller has sent, so it lands inside the run whatever the machine's load. No file is torn,
/// only PSReplica's temporary names are left, nothing outside the plan changes, and a re-run converges.</summary>
public sealed class KilledAgentTests
{
    private const int KillsPerCase = 4;

    public static TheoryData<string, Wiring> Cases()
    {
        var data = new TheoryData<string, Wiring>();
        foreach (string agent in AgentExecutable.NativeSkipped ? [AgentExecutable.Managed] : new[] { AgentExecutable.Managed, "linux-x64" })
        {
            data.Add(agent, Wiring.Push);
            data.Add(agent, Wiring.Pull);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task An_agent_killed_at_random_points_leaves_no_torn_file_and_a_rerun_converges(string agent, Wiring wiring)
    {
        int seed = (agent.Length * 31) + (int)wiring;
        long total;
        using (var measured = new TestTree())
        {
            FaultTree.Create(measured.Source, measured.Destination, seed);
            total = await RunAsync(agent, wiring, measured.Options(), killAt: long.MaxValue);
        }

        var random = new Random(seed);
        for (int i = 0; i < KillsPerCase; i++)
        {
            long at = random.NextInt64(total * 19 / 20);
            using var tree = new TestTree();
            FaultTree.Create(tree.Source, tree.Destination, seed);
            var before = FaultTree.Snapshot(tree.Destination);

            var error = await Assert.ThrowsAsync<SyncException>(() => RunAsync(agent, wiring, tree.Options(), at));
            Assert.True(error.ErrorId == ErrorIds.ConnectionLost, $"killed at byte {at} of {total}: {error.ErrorId}: {error.Message}");
            FaultTree.AssertNoTornFile(tree.Source, tree.Destination, before, tempAllowed: true);

            RecordingObserver rerun = await FaultTree.RunAsync(wiring, tree.Options());
            Assert.Empty(rerun.Errors);
            RandomTree.AssertSame(tree.Source, tree.Destination);
        }
    }

    /// <summary>Runs the sync with <paramref name="agent"/> as a child process, killed (SIGKILL) once the controller has
    /// written <paramref name="killAt"/> bytes to it; returns how many bytes the controller sent in all.</summary>
    private static async Task<long> RunAsync(string agent, Wiring wiring, SyncOptions options, long killAt)
    {
        using Process process = AgentExecutable.For(agent).Start("--serve");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        var toAgent = new KillingStream(process.StandardInput.BaseStream, killAt, process);
        RemoteSide side = wiring == Wiring.Push ? RemoteSide.Destination : RemoteSide.Source;
        try
        {
            await using (RemoteReplicator replicator = await RemoteReplicator.ConnectAsync(process.StandardOutput.BaseStream, toAgent, side,
                side == RemoteSide.Destination ? options.Destination : options.Source, new RemoteSessionOptions(), CancellationToken.None))
            {
                var observer = new RecordingObserver();
                await Task.Run(() => replicator.Run(options, observer, CancellationToken.None));
                Assert.Empty(observer.Errors);
            }
        }
        finally
        {
            // End of input for an agent still running; a killed one's pipe is broken, which only the writer minds.
            toAgent.Dispose();
            Assert.True(process.WaitForExit(60_000), "The agent did not end.");
        }

        Assert.True(process.ExitCode == 0, "The agent failed: " + await stderr);
        Assert.False(toAgent.Killed);
        return toAgent.Written;
    }

    /// <summary>The controller's stream to the agent, which kills the agent in the middle of the write that carries byte
    /// number <c>killAt</c> (that write's first part goes through).</summary>
    private sealed class KillingStream(Stream inner, long killAt, Process agent) : Stream
    {
        private long _written;

        public long Written => Interlocked.Read(ref _written);

        public bool Killed { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => 0; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            long room = killAt - Interlocked.Read(ref _written);
            if (!Killed && room < buffer.Length)
            {
                if (room > 0)
                {
                    await inner.WriteAsync(buffer[..(int)room], cancellationToken);
                    await inner.FlushAsync(cancellationToken);
                }

                Killed = true;
                agent.Kill();
                throw new IOException("The test killed the agent.");
            }

            await inner.WriteAsync(buffer, cancellationToken);
            Interlocked.Add(ref _written, buffer.Length);
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
