using System.Globalization;
using PSReplica.Engine.Tests;
using PSReplica.Engine.Tests.Faults;
using PSReplica.Engine.Tests.Remote;
using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>Issue 18: the TCP connection to the test sshd cut (with a reset, as a network that goes away) after seeded
/// pseudo-random byte counts in either direction, in a push and a pull through the agent that replace, update by delta
/// and create files. Each time the run fails with a connection error, no file is torn, nothing outside the plan changes,
/// only PSReplica's temporary names are left, and a re-run converges.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[Collection(SshServerGroup.Name)]
public sealed class SshConnectionCutTests(TestSshServer server)
{
    private const int CutsPerCase = 3;

    [Theory]
    [InlineData(RemoteSide.Destination, true, 201)]
    [InlineData(RemoteSide.Destination, false, 202)]
    [InlineData(RemoteSide.Source, true, 203)]
    [InlineData(RemoteSide.Source, false, 204)]
    public void A_connection_cut_at_random_points_leaves_no_torn_file_and_a_rerun_converges(RemoteSide side, bool toServer, int seed)
    {
        long total;
        using (var measured = new TestTree())
        using (var forwarder = new SwitchableForwarder(server.Port))
        {
            FaultTree.Create(measured.Source, measured.Destination, seed);
            var observer = new RecordingObserver();
            RemoteRunner.Run(Settings(measured, side, forwarder.Port), measured.Options(), observer, CancellationToken.None);
            Assert.Empty(observer.Errors);
            total = toServer ? forwarder.BytesToServer : forwarder.BytesToClient;
        }

        var random = new Random(seed);
        for (int i = 0; i < CutsPerCase; i++)
        {
            long at = random.NextInt64(total * 19 / 20);
            using var tree = new TestTree();
            FaultTree.Create(tree.Source, tree.Destination, seed);
            var before = FaultTree.Snapshot(tree.Destination);
            var observer = new RecordingObserver();
            using (var forwarder = new SwitchableForwarder(server.Port))
            {
                forwarder.CutAfter(toServer: toServer ? at : long.MaxValue, toClient: toServer ? long.MaxValue : at);
                var error = Assert.Throws<SyncException>(() => RemoteRunner.Run(Settings(tree, side, forwarder.Port), tree.Options(), observer, CancellationToken.None));
                // A cut while the agent starts is told as the agent not starting, with the SSH failure as the reason.
                Assert.True(error.ErrorId is ErrorIds.SshConnectionFailed or ErrorIds.ConnectionLost
                    || (error.ErrorId == ErrorIds.AgentFailed && error.Message.Contains("the SSH connection failed", StringComparison.Ordinal)),
                    $"cut at byte {at} of {total}: {error.ErrorId}: {error.Message}");
            }

            // The server's agent learns of the cut after the controller does, and finishes (its queued actions, the
            // removal of its temporary files) on its own time: the tree is looked at once it has let go.
            PathUsers.WaitUntilUnused(tree.Root, TimeSpan.FromSeconds(30));
            Assert.DoesNotContain(observer.Errors, e => e.ErrorId is ErrorIds.SshConnectionFailed or ErrorIds.ConnectionLost);
            FaultTree.AssertNoTornFile(tree.Source, tree.Destination, before, tempAllowed: true);

            var rerun = new RecordingObserver();
            RemoteRunner.Run(Settings(tree, side, server.Port), tree.Options(), rerun, CancellationToken.None);
            Assert.Empty(rerun.Errors);
            RandomTree.AssertSame(tree.Source, tree.Destination);
        }
    }

    private RemoteRunSettings Settings(TestTree tree, RemoteSide side, int port)
    {
        string knownHosts = Path.Join(tree.Root, "known_hosts-" + port.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(knownHosts, $"[127.0.0.1]:{port.ToString(CultureInfo.InvariantCulture)} {string.Join(' ', server.HostKeyLine.Split(' ')[..2])}\n");
        return new RemoteRunSettings
        {
            Connection = new RemoteConnectionSettings
            {
                Remote = new RemotePath(new SshEndpoint(server.Host, server.User, port), side == RemoteSide.Destination ? tree.Destination : tree.Source),
                KeyFilePaths = [server.UserKeyPath],
                KnownHostsPath = knownHosts,
                ConfigPath = server.EmptyConfigPath,
                ConnectTimeout = TimeSpan.FromSeconds(20),
                AgentDirectory = SolutionOutput.Of("PSReplica.Agent"),
            },
            Side = side,
        };
    }
}
