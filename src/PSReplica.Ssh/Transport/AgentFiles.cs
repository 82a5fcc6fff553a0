using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using PSReplica.Engine;

namespace PSReplica.Ssh.Transport;

/// <summary>The agent's files shipped in the module (agent/ beside its assemblies), their SHA-256 manifest, and the name
/// of the server's cache directory for exactly these files: &lt;version&gt;-&lt;first 16 hex digits of the manifest's hash&gt;.</summary>
internal sealed record AgentFiles(IReadOnlyList<string> Paths, string Manifest, string Name)
{
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
        return new AgentFiles(files, manifest.ToString(), version + "-" + Convert.ToHexStringLower(combined.GetHashAndReset())[..16]);
    }
}
