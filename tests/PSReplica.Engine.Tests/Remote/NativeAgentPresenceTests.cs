using System.Runtime.Versioning;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>Shows, as a skipped test with its reason, that a local run left the native agents out of
/// <see cref="AgentProcessTests"/>; otherwise checks that build.ps1 laid each one in the module as an executable.</summary>
public sealed class NativeAgentPresenceTests
{
    [NativeAgentTheory]
    [InlineData("linux-x64")]
    [InlineData("linux-arm64")]
    [UnsupportedOSPlatform("windows")]
    public void The_module_holds_an_executable_native_agent(string rid)
    {
        string path = AgentExecutable.NativePath(rid);
        Assert.True(File.Exists(path), $"No native agent at {path}: build.ps1 lays it there.");
        UnixFileMode mode = File.GetUnixFileMode(path);
        Assert.True((mode & UnixFileMode.UserExecute) != 0, $"{path} is not executable ({mode}).");
    }

    private sealed class NativeAgentTheoryAttribute : TheoryAttribute
    {
        public NativeAgentTheoryAttribute()
        {
            if (AgentExecutable.NativeSkipped)
            {
                Skip = $"{AgentExecutable.SkipVariable}=1: the native agents are neither built nor tested.";
            }
        }
    }
}
