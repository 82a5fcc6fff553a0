using System.Diagnostics;
using System.Runtime.InteropServices;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>A built agent to run as a child process: the managed assembly under <c>dotnet exec</c>, or a native agent
/// from the module that build.ps1 laid out (out/PSReplica/agent/native/&lt;rid&gt;/psreplica-agent), arm64's under
/// qemu-user on an x86-64 machine.</summary>
internal sealed class AgentExecutable
{
    /// <summary>What a test names: <c>managed</c> or a native agent's runtime identifier.</summary>
    public const string Managed = "managed";

    /// <summary>Set to 1 on a development machine without the cross toolchain: the native agents are then neither built
    /// nor tested. CI ignores it (build.ps1 does too), so a missing binary there fails the tests that need it.</summary>
    public const string SkipVariable = "PSREPLICA_SKIP_NATIVE_AGENTS";

    public static readonly string[] NativeRids = ["linux-x64", "linux-arm64"];

    private readonly string _program;
    private readonly string[] _prefix;

    private AgentExecutable(string program, params string[] prefix)
    {
        _program = program;
        _prefix = prefix;
    }

    public static bool NativeSkipped =>
        Environment.GetEnvironmentVariable(SkipVariable) == "1" && Environment.GetEnvironmentVariable("CI") != "true";

    /// <summary>Every agent the process tests run against: the managed one always, the native ones unless
    /// <see cref="SkipVariable"/> says otherwise (and <see cref="NativeAgentPresenceTests"/> then shows as skipped).</summary>
    public static TheoryData<string> All()
    {
        var data = new TheoryData<string> { Managed };
        if (!NativeSkipped)
        {
            foreach (string rid in NativeRids)
            {
                data.Add(rid);
            }
        }

        return data;
    }

    public static AgentExecutable For(string agent)
    {
        string repository = RepositoryRoot();
        if (agent == Managed)
        {
            string path = Path.Join(repository, "src", "PSReplica.Agent", "bin", Configuration(), Framework(), "PSReplica.Agent.dll");
            Assert.True(File.Exists(path), $"The agent is not built at {path}.");
            return new AgentExecutable("dotnet", "exec", path);
        }

        string native = NativePath(agent);
        Assert.True(File.Exists(native), $"The native agent for {agent} is not at {native}: build.ps1 lays it there (it needs " +
            $"Debian's clang lld llvm gcc-aarch64-linux-gnu libc6-dev-arm64-cross), or set {SkipVariable}=1 to leave native agents out locally.");
        Architecture target = agent.EndsWith("arm64", StringComparison.Ordinal) ? Architecture.Arm64 : Architecture.X64;
        if (RuntimeInformation.OSArchitecture == target)
        {
            return new AgentExecutable(native);
        }

        Assert.True(target == Architecture.Arm64 && File.Exists("/usr/bin/qemu-aarch64"),
            $"The {agent} agent cannot run on this {RuntimeInformation.OSArchitecture} machine: it needs Debian's qemu-user (qemu-aarch64).");
        return new AgentExecutable("/usr/bin/qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", native);
    }

    /// <summary>The module's path of the native agent for <paramref name="rid"/>: the layout the deployment relies on.</summary>
    public static string NativePath(string rid) =>
        Path.Join(RepositoryRoot(), "out", "PSReplica", "agent", "native", rid, "psreplica-agent");

    public Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo(_program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in _prefix)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info)!;
    }

    /// <summary>The configuration and framework these tests were built in, from their own output folder
    /// (bin/&lt;configuration&gt;/&lt;framework&gt;).</summary>
    private static string Framework() => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Name;

    private static string Configuration() => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;

    private static string RepositoryRoot()
    {
        DirectoryInfo? repository = new(AppContext.BaseDirectory.TrimEnd('/'));
        while (repository is not null && !File.Exists(Path.Join(repository.FullName, "PSReplica.sln")))
        {
            repository = repository.Parent;
        }

        Assert.NotNull(repository);
        return repository.FullName;
    }
}
