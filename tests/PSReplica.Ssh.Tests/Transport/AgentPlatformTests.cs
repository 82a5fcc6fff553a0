using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>uname -sm to the native agent's runtime identifier, and the launcher's shell case built from the same table.</summary>
public sealed class AgentPlatformTests
{
    [Theory]
    [InlineData("Linux x86_64", "linux-x64")]
    [InlineData("Linux aarch64", "linux-arm64")]
    [InlineData("Linux arm64", "linux-arm64")]
    [InlineData("  Linux   x86_64 \n", "linux-x64")]
    public void A_Linux_server_of_a_built_architecture_gets_its_native_agent(string uname, string rid) =>
        Assert.Equal(rid, AgentPlatform.RuntimeIdentifier(uname));

    [Theory]
    [InlineData("Darwin arm64")]
    [InlineData("Darwin x86_64")]
    [InlineData("FreeBSD amd64")]
    [InlineData("FreeBSD arm64")]
    [InlineData("Linux armv7l")]
    [InlineData("Linux i686")]
    [InlineData("Linux riscv64")]
    [InlineData("linux x86_64")]
    [InlineData("Linux")]
    [InlineData("Linux x86_64 extra")]
    [InlineData("")]
    [InlineData(null)]
    public void Any_other_platform_gets_no_native_agent(string? uname) => Assert.Null(AgentPlatform.RuntimeIdentifier(uname));

    [Theory]
    [InlineData("Linux x86_64", "name-x64")]
    [InlineData("Linux aarch64", "name-arm64")]
    [InlineData("Linux arm64", "name-arm64")]
    [InlineData("Darwin arm64", "")]
    public void The_launchers_case_agrees_with_the_mapping(string uname, string expected)
    {
        string script = AgentPlatform.ShellCase("n", rid => rid == "linux-x64" ? "name-x64" : "name-arm64");
        // The case reads uname -sm; a function named uname stands in for the server's.
        string output = Tool.Run("sh", "-c", $"getconf() {{ echo 'glibc 2.36'; }}; uname() {{ echo '{uname}'; }}; n=; {script}; printf %s \"$n\"");

        Assert.Equal(expected, output);
    }

    [Fact]
    public void The_launchers_case_names_only_the_native_agents_the_module_has()
    {
        string script = AgentPlatform.ShellCase("n", rid => rid == "linux-arm64" ? "arm-only" : null);

        Assert.Equal(string.Empty, Tool.Run("sh", "-c", $"getconf() {{ echo 'glibc 2.36'; }}; uname() {{ echo 'Linux x86_64'; }}; n=; {script}; printf %s \"$n\""));
        Assert.Equal("arm-only", Tool.Run("sh", "-c", $"getconf() {{ echo 'glibc 2.36'; }}; uname() {{ echo 'Linux aarch64'; }}; n=; {script}; printf %s \"$n\""));
    }

    [Theory]
    [InlineData("glibc 2.34", true)]
    [InlineData("glibc 2.36", true)]
    [InlineData("glibc 2.41", true)]
    [InlineData("glibc 2.33", false)]
    [InlineData("glibc 2.31", false)]
    [InlineData("glibc 2.17", false)]
    [InlineData("glibc 2.5", false)]
    [InlineData("", false)]
    [InlineData("musl", false)]
    [InlineData(null, false)]
    public void The_native_agent_needs_glibc_2_34_and_the_launcher_agrees(string? getconf, bool fits)
    {
        Assert.Equal(fits, AgentPlatform.GlibcFits(getconf));
        string script = AgentPlatform.ShellCase("n", _ => "native");
        string output = Tool.Run("sh", "-c", $"getconf() {{ echo '{getconf}'; }}; uname() {{ echo 'Linux x86_64'; }}; n=; {script}; printf %s \"$n\"");

        Assert.Equal(fits ? "native" : string.Empty, output);
    }
}
