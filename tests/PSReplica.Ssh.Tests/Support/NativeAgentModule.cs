using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>An agent folder laid out as the module's (agent/: the managed agent's files; agent/native/&lt;rid&gt;/psreplica-agent:
/// the Native AOT agent for this machine's platform), and a server that has no .NET, for the tests of the native agent's
/// deployment. The native agent is build.ps1's (out/PSReplica/agent/native/) when the module is built, else published
/// here once per test run (shared by every fixture) with <c>dotnet publish -p:PublishAot=true</c>.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NativeAgentModule : IDisposable
{
    /// <summary>The agent published for this test run (by the first fixture that needs it), shared by every test class.</summary>
    private static readonly Lazy<string> s_published = new(Publish, System.Threading.LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly TempDirectory _dir = new();

    public NativeAgentModule()
    {
        RuntimeIdentifier = Rid;
        AgentDirectory = _dir.Combine("agent");
        Directory.CreateDirectory(AgentDirectory);
        foreach (string file in Directory.GetFiles(SolutionOutput.Of("PSReplica.Agent")))
        {
            File.Copy(file, Path.Join(AgentDirectory, Path.GetFileName(file)));
        }

        string native = AgentFiles.NativePath(AgentDirectory, RuntimeIdentifier);
        Directory.CreateDirectory(Path.GetDirectoryName(native)!);
        File.Copy(Built(RuntimeIdentifier), native);
        Server = TestSshServer.WithoutDotnet();
    }

    /// <summary>The rid of this machine, whose native agent the folder holds.</summary>
    public string RuntimeIdentifier { get; }

    public string AgentDirectory { get; }

    public TestSshServer Server { get; }

    public void Dispose()
    {
        Server.Dispose();
        _dir.Dispose();
    }

    private static string Rid => RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";

    private static string Built(string rid)
    {
        string module = AgentFiles.NativePath(Path.Join(SolutionOutput.Root, "out", "PSReplica", "agent"), rid);
        return File.Exists(module) ? module : s_published.Value;
    }

    private static string Publish()
    {
        string root = SolutionOutput.Root;
        string rid = Rid;
        var output = new TempDirectory();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => output.Dispose();
        string agent = Path.Join(output.Path, "PSReplica.Agent");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "publish", Path.Join(root, "src", "PSReplica.Agent"), "-c", "Release", "-r", rid, "-p:PublishAot=true", "-o", output.Path })
        {
            info.ArgumentList.Add(argument);
        }

        using Process publish = Process.Start(info)!;
        System.Threading.Tasks.Task<string> error = publish.StandardError.ReadToEndAsync();
        string said = publish.StandardOutput.ReadToEnd();
        publish.WaitForExit();
        Assert.True(publish.ExitCode == 0 && File.Exists(agent), $"dotnet publish of the native agent failed: {said} {error.Result}");
        return agent;
    }
}
