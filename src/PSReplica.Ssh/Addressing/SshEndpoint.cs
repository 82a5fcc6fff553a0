using System.Globalization;

namespace PSReplica.Ssh;

/// <summary>
/// Where to connect: a host as the user wrote it (an alias the ssh config may rename), and the user and port
/// when the address named them. Unset parts come from the ssh config, then from the defaults.
/// </summary>
public sealed record SshEndpoint
{
    public SshEndpoint(string host, string? user = null, int? port = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        if (port is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "A port is between 1 and 65535.");
        }

        Host = host;
        User = string.IsNullOrEmpty(user) ? null : user;
        Port = port;
    }

    /// <summary>The host name, address or ssh config alias; an IPv6 address without brackets.</summary>
    public string Host { get; }

    public string? User { get; }

    public int? Port { get; }

    /// <summary>The host as ssh and known_hosts write it: IPv6 addresses in brackets when a port follows.</summary>
    public override string ToString()
    {
        string host = Host.Contains(':', StringComparison.Ordinal) ? "[" + Host + "]" : Host;
        string user = User is null ? string.Empty : User + "@";
        string port = Port is null ? string.Empty : ":" + Port.Value.ToString(CultureInfo.InvariantCulture);
        return user + host + port;
    }
}
