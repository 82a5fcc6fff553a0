using System.Security;

namespace PSReplica.Ssh;

/// <summary>How to reach and log in to an SSH server. Unset values come from the ssh config, then defaults.</summary>
public sealed class SshConnectionOptions
{
    /// <summary>The host name, address or ssh config alias.</summary>
    public required string Host { get; init; }

    /// <summary>The port; null: the config's Port, else 22.</summary>
    public int? Port { get; init; }

    /// <summary>The login name; null: the config's User, else the local user name.</summary>
    public string? User { get; init; }

    /// <summary>A password, tried (as password and keyboard-interactive authentication) after the keys.</summary>
    public SecureString? Password { get; init; }

    /// <summary>A password as plain text, for callers that hold no SecureString; <see cref="Password"/> wins.</summary>
    public string? PlainPassword { get; init; }

    /// <summary>
    /// Private key files to offer; each must be usable. Null: the config's IdentityFile entries, else those of
    /// <c>~/.ssh/id_ed25519</c>, <c>id_ecdsa</c>, <c>id_rsa</c> that exist (passphrase-protected ones skipped).
    /// </summary>
    public IReadOnlyList<string>? KeyFilePaths { get; init; }

    /// <summary>The known_hosts file; null: the config's UserKnownHostsFile, else <c>~/.ssh/known_hosts</c>.</summary>
    public string? KnownHostsPath { get; init; }

    /// <summary>Trust a host seen for the first time and record its key (a changed key is never accepted).</summary>
    public bool AcceptNewHostKey { get; init; }

    /// <summary>The limit for connecting, key exchange and authentication together.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait for the peer on an open channel; infinite by default (as rsync's --timeout=0).</summary>
    public TimeSpan IdleTimeout { get; init; } = System.Threading.Timeout.InfiniteTimeSpan;

    /// <summary>The ssh config file; null: <c>~/.ssh/config</c>; empty: read none.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>
    /// Cipher names in order of preference (for example <c>aes128-gcm@openssh.com</c>); null: PSReplica's
    /// measured default order (<see cref="SshConnector.DefaultCiphers"/>). Names SSH.NET lacks are ignored.
    /// </summary>
    public IReadOnlyList<string>? Ciphers { get; init; }

    /// <summary>
    /// Key exchange names in order of preference (for example <c>sntrup761x25519-sha512@openssh.com</c>); null: the ssh
    /// config's KexAlgorithms, else <see cref="SshConnector.DefaultKeyExchanges"/>. Names SSH.NET lacks are ignored.
    /// </summary>
    public IReadOnlyList<string>? KeyExchanges { get; init; }
}
