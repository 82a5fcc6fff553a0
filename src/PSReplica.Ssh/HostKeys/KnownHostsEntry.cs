using System.Security.Cryptography;
using System.Text;

namespace PSReplica.Ssh;

/// <summary>One key line of a known_hosts file.</summary>
public sealed class KnownHostsEntry
{
    private readonly string[] _patterns;
    private readonly byte[]? _salt;
    private readonly byte[]? _hash;

    private KnownHostsEntry(string path, int lineNumber, KnownHostsMarker marker, string hosts, string[] patterns, byte[]? salt, byte[]? hash, HostKey key)
    {
        Path = path;
        LineNumber = lineNumber;
        Marker = marker;
        Hosts = hosts;
        _patterns = patterns;
        _salt = salt;
        _hash = hash;
        Key = key;
    }

    public string Path { get; }

    /// <summary>1-based, as editors and OpenSSH's messages count.</summary>
    public int LineNumber { get; }

    public KnownHostsMarker Marker { get; }

    /// <summary>The host field as written (a pattern list or a hashed <c>|1|salt|hash</c>).</summary>
    public string Hosts { get; }

    public bool IsHashed => _hash is not null;

    public HostKey Key { get; }

    /// <summary>Parses a line; null for blank lines, comments and lines that are not understood (OpenSSH skips those too).</summary>
    public static KnownHostsEntry? TryParse(string path, int lineNumber, string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        string[] fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 0 || fields[0].StartsWith('#'))
        {
            return null;
        }

        int next = 0;
        KnownHostsMarker marker = KnownHostsMarker.None;
        if (fields[0].StartsWith('@'))
        {
            marker = fields[0].ToLowerInvariant() switch
            {
                "@revoked" => KnownHostsMarker.Revoked,
                "@cert-authority" => KnownHostsMarker.CertAuthority,
                _ => KnownHostsMarker.Unknown,
            };
            next = 1;
        }

        if (fields.Length < next + 3 || marker == KnownHostsMarker.Unknown)
        {
            return null;
        }

        string hosts = fields[next];
        HostKey? key = HostKey.TryParseBase64(fields[next + 2]);
        if (key is null || !string.Equals(key.KeyType, fields[next + 1], StringComparison.Ordinal))
        {
            return null;
        }

        if (hosts.StartsWith("|1|", StringComparison.Ordinal))
        {
            string[] parts = hosts.Split('|');
            try
            {
                if (parts.Length != 4)
                {
                    return null;
                }

                byte[] salt = Convert.FromBase64String(parts[2]);
                byte[] hash = Convert.FromBase64String(parts[3]);
                return salt.Length == 20 && hash.Length == 20
                    ? new KnownHostsEntry(path, lineNumber, marker, hosts, [], salt, hash, key)
                    : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return new KnownHostsEntry(path, lineNumber, marker, hosts, hosts.Split(','), null, null, key);
    }

    /// <summary>
    /// Whether this line names <paramref name="hostName"/> (<c>host</c>, or <c>[host]:port</c> off port 22).
    /// A hashed line matches only the exact name; a pattern list follows OpenSSH's negation rules.
    /// </summary>
    public bool Matches(string hostName)
    {
        ArgumentNullException.ThrowIfNull(hostName);
        if (_hash is not null)
        {
            // HMAC-SHA1 is what OpenSSH's hashed host format (|1|) defines; it hides names, it does not sign.
#pragma warning disable CA5350
            byte[] computed = HMACSHA1.HashData(_salt!, Encoding.UTF8.GetBytes(hostName));
#pragma warning restore CA5350
            return CryptographicOperations.FixedTimeEquals(computed, _hash);
        }

        return HostPattern.MatchList(hostName, _patterns);
    }

    public override string ToString() => $"{Path}:{LineNumber}";
}
