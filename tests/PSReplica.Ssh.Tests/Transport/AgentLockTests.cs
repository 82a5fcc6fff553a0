using System.Diagnostics;
using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>A running agent, managed or native, holds the lock pruning checks on its directory: flock -n -x, as the pruning
/// script takes it, fails while the agent serves a session and succeeds once it has ended.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AgentLockTests(NativeAgentModule module) : IClassFixture<NativeAgentModule>, IDisposable
{
    private readonly NativeAgentModule _module = module;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_managed_agent_holds_its_directory_locked_while_it_runs()
    {
        string directory = _dir.Combine("managed");
        Directory.CreateDirectory(directory);
        foreach (string file in Directory.GetFiles(_module.AgentDirectory))
        {
            File.Copy(file, Path.Join(directory, Path.GetFileName(file)));
        }

        await AssertLockedWhileRunning(directory, "dotnet", Path.Join(directory, AgentFiles.ManagedEntry));
    }

    [Fact]
    public async Task The_native_agent_holds_its_directory_locked_while_it_runs()
    {
        string directory = _dir.Combine("native");
        Directory.CreateDirectory(directory);
        string agent = Path.Join(directory, AgentFiles.NativeExecutable);
        File.Copy(AgentFiles.NativePath(_module.AgentDirectory, _module.RuntimeIdentifier), agent);

        await AssertLockedWhileRunning(directory, agent);
    }

    private async Task AssertLockedWhileRunning(string directory, string file, params string[] arguments)
    {
        Assert.Equal(0, Flock(directory));
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.ArgumentList.Add("--serve");
        using Process agent = Process.Start(info)!;
        string destination = _dir.Combine("destination-" + Path.GetFileName(directory));
        Directory.CreateDirectory(destination);
        // The handshake's answer comes after the agent's start, where it takes the lock: no waiting on time.
        RemoteReplicator replicator = await RemoteReplicator.ConnectAsync(agent.StandardOutput.BaseStream, agent.StandardInput.BaseStream,
            RemoteSide.Destination, destination, new RemoteSessionOptions(), CancellationToken.None);
        Assert.Equal(1, Flock(directory));

        await replicator.DisposeAsync();
        agent.StandardInput.Close();
        await agent.WaitForExitAsync();
        Assert.Equal(0, Flock(directory));
    }

    /// <summary>What the pruning script runs: flock -n -x on the directory; 0 when the lock was free.</summary>
    private static int Flock(string directory)
    {
        using Process flock = Process.Start(new ProcessStartInfo("flock", ["-n", "-x", directory, "true"]) { UseShellExecute = false })!;
        flock.WaitForExit();
        return flock.ExitCode;
    }
}
