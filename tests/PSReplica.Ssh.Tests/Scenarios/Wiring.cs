using PSReplica.Engine.Tests;
using PSReplica.Engine.Tests.Remote;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>The ways one Sync-Directory run can be wired: both sides local, or one side served by an agent (in process,
/// over memory pipes) or reached over SFTP (the test sshd on this machine, so a remote path is a local one).</summary>
public enum Wiring
{
    Local,
    AgentPush,
    AgentPull,
    SftpPush,
    SftpPull,

    /// <summary>Both sides local, on the portable file-system backend (System.IO), as on Windows and macOS.</summary>
    Portable,
}

/// <summary>One sshd and one SFTP session for a test class, connected once.</summary>
public sealed class SftpFixture : IDisposable
{
    private readonly SshSession _session;

    public SftpFixture()
    {
        Server = new TestSshServer();
        _session = SshConnector.Connect(Server.Options());
        Sftp = _session.OpenSftp();
    }

    public TestSshServer Server { get; }

    public SftpSession Sftp { get; }

    public void Dispose()
    {
        Sftp.Dispose();
        _session.Dispose();
        Server.Dispose();
    }
}

/// <summary>Runs a whole Sync-Directory (plan and execution) over a wiring, as the cmdlet would after building its
/// options.</summary>
internal static class WiringRunner
{
    public static TimeGranularity Granularity(Wiring wiring) => wiring switch
    {
        Wiring.SftpPush or Wiring.SftpPull => TimeGranularity.WholeSeconds,
        Wiring.Portable => TimeGranularity.Ticks,
        _ => TimeGranularity.Nanoseconds,
    };

    /// <summary>Runs <paramref name="options"/> over <paramref name="wiring"/>; a SyncException that ends the run is
    /// thrown, per-item errors are in the observer.</summary>
    public static async Task<SyncSummary> RunAsync(Wiring wiring, SyncOptions options, RecordingObserver observer, SftpSession? sftp,
        bool dryRun = false, CancellationToken cancellation = default)
    {
        switch (wiring)
        {
            case Wiring.Local:
                return await Task.Run(() => LocalReplicator.Run(options, observer, cancellation, dryRun), cancellation);

            case Wiring.Portable:
                return await Task.Run(() => LocalReplicator.Run(options with { FileSystem = FileSystemBackendKind.Portable }, observer, cancellation, dryRun), cancellation);

            case Wiring.AgentPush or Wiring.AgentPull:
                RemoteSide side = wiring == Wiring.AgentPush ? RemoteSide.Destination : RemoteSide.Source;
                await using (Loopback loop = Loopback.WithAgent())
                {
                    SyncSummary summary;
                    await using (RemoteReplicator replicator = await loop.ConnectReplicatorAsync(side, side == RemoteSide.Destination ? options.Destination : options.Source))
                    {
                        summary = await Task.Run(() => replicator.Run(options, observer, cancellation, dryRun), cancellation);
                    }

                    Assert.True(await loop.FinishAsync() == 0, "the agent did not exit cleanly: " + loop.Diagnostics);
                    return summary;
                }

            case Wiring.SftpPush:
                Assert.NotNull(sftp);
                return await Task.Run(() => SftpReplicator.Open(sftp, RemoteSide.Destination, options.Destination).Run(options, observer, cancellation, dryRun), cancellation);

            case Wiring.SftpPull:
                Assert.NotNull(sftp);
                return await Task.Run(() => SftpReplicator.Open(sftp, RemoteSide.Source, options.Source).Run(options, observer, cancellation, dryRun), cancellation);

            default:
                throw new ArgumentOutOfRangeException(nameof(wiring));
        }
    }
}
