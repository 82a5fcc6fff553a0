using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>The order of choice: installed module agent, native agent for the server's platform, managed agent where
/// .NET is, else none (the runner falls back to SFTP); each with the reason -Verbose gives.</summary>
public sealed class AgentChoiceTests
{
    private const string Installed = "/home/u/.local/share/powershell/Modules/PSReplica/1.0.0/agent/PSReplica.Agent.dll";

    [Fact]
    public void An_installed_module_comes_first_even_where_a_native_agent_fits()
    {
        AgentChoice choice = AgentChoice.Choose(Probe(dotnet: "/usr/bin/dotnet", uname: "Linux x86_64", installed: Installed), _ => true, "u@h");

        Assert.Equal(AgentKind.Installed, choice.Kind);
        Assert.Equal("the module is installed on the server", choice.Why);
    }

    [Fact]
    public void The_native_agent_comes_next_and_needs_no_dotnet()
    {
        AgentChoice choice = AgentChoice.Choose(Probe(dotnet: null, uname: "Linux aarch64"), rid => rid == "linux-arm64", "u@h");

        Assert.Equal(AgentKind.Native, choice.Kind);
        Assert.Equal("linux-arm64", choice.RuntimeIdentifier);
        Assert.Equal("no PSReplica module is installed on the server; the native linux-arm64 agent fits its platform ('Linux aarch64') and needs no .NET "
            + "(the server has none)", choice.Why);
    }

    [Fact]
    public void The_native_agent_is_preferred_to_the_servers_dotnet()
    {
        AgentChoice choice = AgentChoice.Choose(Probe(dotnet: "/usr/bin/dotnet", uname: "Linux x86_64"), _ => true, "u@h");

        Assert.Equal(AgentKind.Native, choice.Kind);
        Assert.Equal("linux-x64", choice.RuntimeIdentifier);
        Assert.DoesNotContain("has none", choice.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void An_installed_module_without_dotnet_yields_to_the_native_agent()
    {
        AgentChoice choice = AgentChoice.Choose(Probe(dotnet: null, uname: "Linux x86_64", installed: Installed), _ => true, "u@h");

        Assert.Equal(AgentKind.Native, choice.Kind);
        Assert.StartsWith("the module installed on the server has no 'dotnet' to run it; ", choice.Why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Darwin arm64", "no native agent is built for 'Darwin arm64'")]
    [InlineData("FreeBSD amd64", "no native agent is built for 'FreeBSD amd64'")]
    [InlineData(null, "no native agent is built for an unreported platform")]
    public void The_managed_agent_runs_where_dotnet_is_and_no_native_build_fits(string? uname, string noNative)
    {
        AgentChoice choice = AgentChoice.Choose(Probe(dotnet: "/opt/dotnet/dotnet", uname: uname), _ => true, "u@h");

        Assert.Equal(AgentKind.Managed, choice.Kind);
        Assert.Null(choice.RuntimeIdentifier);
        Assert.Equal($"no PSReplica module is installed on the server; {noNative}; the server has .NET (/opt/dotnet/dotnet)", choice.Why);
    }

    [Fact]
    public void A_module_without_native_files_behaves_as_before_on_Linux()
    {
        AgentChoice choice = AgentChoice.Choose(Probe(dotnet: "/usr/bin/dotnet", uname: "Linux x86_64"), _ => false, "u@h");

        Assert.Equal(AgentKind.Managed, choice.Kind);
        Assert.Contains("this module has no native linux-x64 agent (a development build)", choice.Why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Darwin arm64", "no native agent is built for 'Darwin arm64'")]
    [InlineData("Linux x86_64", "this module has no native linux-x64 agent (a development build)")]
    public void Without_dotnet_or_a_fitting_native_agent_there_is_none(string uname, string noNative)
    {
        SyncException error = Assert.Throws<SyncException>(() =>
            AgentChoice.Choose(Probe(dotnet: null, uname: uname), rid => rid == "linux-arm64", "u@h"));

        Assert.Equal(ErrorIds.AgentFailed, error.ErrorId);
        Assert.Equal($"u@h has neither a PSReplica agent nor the .NET runtime ('dotnet'), and {noNative}: install PSReplica or .NET there, or pass -RemoteCommand.",
            error.Message);
    }

    [Theory]
    [InlineData("glibc 2.31", "'glibc 2.31'")]
    [InlineData(null, "none reported")]
    public void An_old_or_missing_glibc_gets_the_managed_agent_where_dotnet_is(string? glibc, string has)
    {
        AgentChoice choice = AgentChoice.Choose(Probe(dotnet: "/usr/bin/dotnet", uname: "Linux x86_64", glibc: glibc), _ => true, "u@h");

        Assert.Equal(AgentKind.Managed, choice.Kind);
        Assert.Contains($"the native linux-x64 agent needs glibc 2.34 or later and the server has {has}", choice.Why, StringComparison.Ordinal);
        Assert.Throws<SyncException>(() => AgentChoice.Choose(Probe(dotnet: null, uname: "Linux x86_64", glibc: glibc), _ => true, "u@h"));
    }

    private static Dictionary<string, List<string>> Probe(string? dotnet, string? uname, string? installed = null, string? glibc = "glibc 2.36")
    {
        var probe = new Dictionary<string, List<string>>(StringComparer.Ordinal) { ["home"] = ["/home/u"] };
        if (glibc is not null)
        {
            probe["glibc"] = [glibc];
        }

        if (dotnet is not null)
        {
            probe["dotnet"] = [dotnet];
        }

        if (uname is not null)
        {
            probe["uname"] = [uname];
        }

        if (installed is not null)
        {
            probe["installed"] = [installed];
        }

        return probe;
    }
}
