using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using PSReplica.Engine;

namespace PSReplica.Ssh.Transport;

/// <summary>One agent build shipped in the module, its SHA-256 manifest, and the name of the server's cache directory for
/// exactly these files: &lt;version&gt;-&lt;first 16 hex digits of the manifest's hash&gt; for the managed agent (the files
/// of agent/ beside the module's assemblies), &lt;version&gt;-&lt;rid&gt;-&lt;hash&gt; for a native one
/// (agent/native/&lt;rid&gt;/psreplica-agent, laid there by build.ps1).</summary>
internal sealed record AgentFiles(IReadOnlyList<string> Paths, string Manifest, string Name)
{
    /// <summary>The native agent's file name in agent/native/&lt;rid&gt;/ and in the server's cache.</summary>
    public const string NativeExecutable = "psreplica-agent";

    /// <summary>The managed agent's entry assembly.</summary>
    public const string ManagedEntry = "PSReplica.Agent.dll";

    /// <summary>The managed agent: every file directly in <paramref name="local"/> (its native/ folder is not part of it).</summary>
    /// <exception cref="SyncException">AgentFailed when the module has no agent files.</exception>
    public static AgentFiles Read(string local)
    {
        if (!Directory.Exists(local))
        {
            throw new SyncException(ErrorIds.AgentFailed, SyncErrorKind.NotFound,
                $"This PSReplica module has no agent files to deploy ('{local}' is missing); pass -RemoteCommand.", local);
        }

        var files = new List<string>(Directory.GetFiles(local));
        files.Sort(StringComparer.Ordinal);
        return Of(files, string.Empty);
    }

    /// <summary>The path of the native agent for <paramref name="rid"/> under the module's agent folder.</summary>
    public static string NativePath(string local, string rid) => Path.Join(local, "native", rid, NativeExecutable);

    /// <summary>The native agent for <paramref name="rid"/>, or null when the module has none (a development build).</summary>
    public static AgentFiles? ReadNative(string local, string rid)
    {
        string path = NativePath(local, rid);
        return File.Exists(path) ? Of([path], rid + "-") : null;
    }

    private static AgentFiles Of(List<string> files, string namePrefix)
    {
        var manifest = new StringBuilder();
        using var combined = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string file in files)
        {
            using FileStream stream = File.OpenRead(file);
            string line = Convert.ToHexStringLower(SHA256.HashData(stream)) + "  " + Path.GetFileName(file) + "\n";
            manifest.Append(line);
            combined.AppendData(Encoding.UTF8.GetBytes(line));
        }

        string version = typeof(AgentFiles).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        version = plus < 0 ? version : version[..plus];
        return new AgentFiles(files, manifest.ToString(), version + "-" + namePrefix + Convert.ToHexStringLower(combined.GetHashAndReset())[..16]);
    }
}
