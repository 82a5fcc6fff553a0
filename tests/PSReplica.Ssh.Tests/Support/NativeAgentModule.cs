using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using PSReplica.Ssh.Transport;

namespace PSReplica.Ssh.Tests;

/// <summary>An agent folder laid out as the module's (agent/: the managed agent's files; agent/native/&lt;rid&gt;/psreplica-agent:
/// the Native AOT agent for this machine's platform), and a server that has no .NET, for the tests of the native agent's
/// deployment. The native agent is build.ps1's (out/PSReplica/agent/native/) when the module is built, else published
/// here once per test run (shared by every fixture) with <c>dotnet publish -p:PublishAot=true</c>.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class NativeAgentModule : IDisposable
{
    /// <summary>The agents published for this test run (by the first fixture that needs one), shared by every test class.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> s_published = new(StringComparer.Ordinal);

    private readonly TempDirectory _dir = new();

    public NativeAgentModule()
        : this(Rid, TestSshServer.WithoutDotnet)
    {
    }

    /// <param name="rid">The native agent the folder holds (only that one).</param>
    /// <param name="server">The server the tests deploy to.</param>
    protected NativeAgentModule(string rid, Func<TestSshServer> server)
    {
        ArgumentNullException.ThrowIfNull(server);
        RuntimeIdentifier = rid;
        AgentDirectory = _dir.Combine("agent");
        Directory.CreateDirectory(AgentDirectory);
        foreach (string file in Directory.GetFiles(SolutionOutput.Of("PSReplica.Agent")))
        {
            File.Copy(file, Path.Join(AgentDirectory, Path.GetFileName(file)));
        }

        string native = AgentFiles.NativePath(AgentDirectory, RuntimeIdentifier);
        Directory.CreateDirectory(Path.GetDirectoryName(native)!);
        File.Copy(Built(RuntimeIdentifier), native);
        Server = server();
    }

    /// <summary>The rid of this machine, whose native agent the folder holds.</summary>
    public string RuntimeIdentifier { get; }

    public string AgentDirectory { get; }

    public TestSshServer Server { get; }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Server.Dispose();
            _dir.Dispose();
        }
    }

    private static string Rid => RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";

    private static string Built(string rid)
    {
        string module = AgentFiles.NativePath(Path.Join(SolutionOutput.Root, "out", "PSReplica", "agent"), rid);
        return File.Exists(module) ? module
            : s_published.GetOrAdd(rid, r => new Lazy<string>(() => Publish(r), System.Threading.LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    private static string Publish(string rid)
    {
        string root = SolutionOutput.Root;
        var output = new TempDirectory();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => output.Dispose();
        string agent = Path.Join(output.Path, "PSReplica.Agent");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "publish", Path.Join(root, "src", "PSReplica.Agent"), "-c", "Release", "-r", rid, "-p:PublishAot=true", "-o", output.Path }
            .Concat(rid == Rid ? [] : new[] { "-p:ObjCopyName=llvm-objcopy" }))
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

/// <summary>The module's agent folder with only the linux-arm64 native agent, and an arm64 server without .NET emulated
/// on this machine (<see cref="TestSshServer.EmulatingArm64"/>): the deployment must pick, upload and run the arm64 build.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class Arm64AgentModule() : NativeAgentModule("linux-arm64", TestSshServer.EmulatingArm64);

/// <summary>The module's agent folder (with this machine's native agent) and a server that keeps .NET but reports a platform
/// no native agent is built for: the managed agent is the one deployed.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class OtherPlatformAgentModule() : NativeAgentModule(
    RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64", () => TestSshServer.Reporting("FreeBSD amd64"));

/// <summary>The module's agent folder (with this machine's native agent) and a server with .NET whose ~/.cache is noexec:
/// the native agent is uploaded but cannot run, so the managed agent serves.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NoexecCacheAgentModule() : NativeAgentModule(
    RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64", () => TestSshServer.WithNoexecCache(withoutDotnet: false));

/// <summary>The same with no .NET on the server: no agent can run there.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NoexecCacheWithoutDotnetAgentModule() : NativeAgentModule(
    RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64", () => TestSshServer.WithNoexecCache(withoutDotnet: true));
