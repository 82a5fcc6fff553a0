using System.Text.RegularExpressions;
using static PSReplica.Ssh.Tests.DeploymentScenario;

namespace PSReplica.Ssh.Tests;

/// <summary>An arm64 server with sshd and nothing else, emulated on this machine: its `uname -sm` says "Linux aarch64" and
/// aarch64 executables run through qemu-user (<see cref="TestSshServer.EmulatingArm64"/>). The module's linux-arm64 native
/// agent is picked by the server's platform, uploaded, checked and run there, and serves a push and a pull with deltas and
/// sub-second times, as it would on a Raspberry Pi or an arm64 NAS.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class Arm64AgentDeploymentTests(Arm64AgentModule module) : IClassFixture<Arm64AgentModule>, IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Push_and_pull_run_through_the_arm64_native_agent()
    {
        ClearCache(module.Server);

        (string push, string deltaPush, string pull) = PushDeltaPull(module, _dir);

        Assert.Matches($@"^Transport: the PSReplica agent on \S+: this module's native linux-arm64 agent, deployed now into {Regex.Escape(module.Server.Home)}/\.cache/psreplica/agent/\S+-linux-arm64-[0-9a-f]{{16}} "
            + @"\(1 file\(s\), .+ uploaded over SFTP, SHA-256 sums checked\), run directly \(no PSReplica module is installed on the server; the native linux-arm64 agent fits "
            + @"its platform \('Linux aarch64'\) and needs no \.NET \(the server has none\)\); ", push);
        Assert.Matches(@"^Transport: the PSReplica agent on \S+: this module's native linux-arm64 agent, deployed earlier into ~/\.cache/psreplica/agent/\S+-linux-arm64-\S+ "
            + @"\(SHA-256 sums checked\), started by the probe in its own channel ", deltaPush);
        Assert.Matches(@"native linux-arm64 agent, deployed earlier .+started by the probe in its own channel ", pull);
        Assert.Matches("-linux-arm64-[0-9a-f]{16}$", Assert.Single(CachedAgents(module.Server)));
    }
}

/// <summary>A server with .NET whose platform no native agent is built for ("FreeBSD amd64" as its `uname -sm` says): the
/// module's managed agent is deployed instead, run with the server's dotnet, and found in the cache the next time.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ManagedAgentDeploymentTests(OtherPlatformAgentModule module) : IClassFixture<OtherPlatformAgentModule>, IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_platform_without_a_native_build_gets_the_managed_agent()
    {
        ClearCache(module.Server);

        (string push, string deltaPush, string pull) = PushDeltaPull(module, _dir);

        Assert.Matches($@"^Transport: the PSReplica agent on \S+: this module's agent, deployed now into {Regex.Escape(module.Server.Home)}/\.cache/psreplica/agent/[^ ]+-[0-9a-f]{{16}} "
            + @"\(\d+ file\(s\), .+ uploaded over SFTP, SHA-256 sums checked\), run with /\S+/dotnet \(no PSReplica module is installed on the server; "
            + @"no native agent is built for 'FreeBSD amd64'; the server has \.NET \(/\S+/dotnet\)\); ", push);
        Assert.Matches(@"^Transport: the PSReplica agent on \S+: this module's agent, deployed earlier into ~/\.cache/psreplica/agent/\S+ "
            + @"\(SHA-256 sums checked\), started by the probe in its own channel \(.+no native agent is built for 'FreeBSD amd64'", deltaPush);
        Assert.Matches("this module's agent, deployed earlier", pull);
        Assert.DoesNotMatch("-linux-", Assert.Single(CachedAgents(module.Server)));
    }
}
