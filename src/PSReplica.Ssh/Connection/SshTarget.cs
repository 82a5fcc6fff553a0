namespace PSReplica.Ssh;

/// <summary>Options and ssh config resolved into what a connection uses.</summary>
/// <param name="Alias">The host as the user gave it.</param>
/// <param name="Host">The host to connect to (the config's HostName, else the alias); known_hosts names it so.</param>
/// <param name="Port">The port.</param>
/// <param name="User">The login name.</param>
/// <param name="KeyFiles">Key files to offer, in order.</param>
/// <param name="ExplicitKeys">Whether the key files were named by the caller or the config (each must then be usable).</param>
/// <param name="KnownHostsPath">The known_hosts file.</param>
/// <param name="ProxyJump">A ProxyJump from the config; this transport cannot follow it.</param>
/// <param name="ProxyCommand">A ProxyCommand from the config; likewise.</param>
/// <param name="KexAlgorithms">The config's KexAlgorithms list, applied over <see cref="SshConnector.DefaultKeyExchanges"/>.</param>
/// <param name="Ciphers">The config's Ciphers list, applied over <see cref="SshConnector.DefaultCiphers"/>.</param>
public sealed record SshTarget(
    string Alias,
    string Host,
    int Port,
    string User,
    IReadOnlyList<string> KeyFiles,
    bool ExplicitKeys,
    string KnownHostsPath,
    string? ProxyJump,
    string? ProxyCommand,
    string? KexAlgorithms = null,
    string? Ciphers = null);
