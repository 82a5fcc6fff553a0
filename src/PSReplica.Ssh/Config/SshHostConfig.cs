namespace PSReplica.Ssh;

/// <summary>What an ssh config file says about one host alias; null where it says nothing.</summary>
/// <param name="Alias">The name the user wrote.</param>
/// <param name="HostName">The real host to connect to (<c>HostName</c>), tokens expanded.</param>
/// <param name="User">The login name (<c>User</c>).</param>
/// <param name="Port">The port (<c>Port</c>).</param>
/// <param name="IdentityFiles">Every <c>IdentityFile</c> in order, <c>~</c> and tokens expanded.</param>
/// <param name="UserKnownHostsFile">The first file of <c>UserKnownHostsFile</c>, expanded.</param>
/// <param name="ProxyJump">A <c>ProxyJump</c>, which only the system ssh client (<c>-SshCommand</c>) can follow.</param>
/// <param name="ProxyCommand">A <c>ProxyCommand</c>, likewise.</param>
/// <param name="KexAlgorithms">The first <c>KexAlgorithms</c> list as written (with its <c>+</c>, <c>-</c> or <c>^</c>).</param>
/// <param name="Ciphers">The first <c>Ciphers</c> list as written.</param>
public sealed record SshHostConfig(
    string Alias,
    string? HostName,
    string? User,
    int? Port,
    IReadOnlyList<string> IdentityFiles,
    string? UserKnownHostsFile,
    string? ProxyJump,
    string? ProxyCommand,
    string? KexAlgorithms = null,
    string? Ciphers = null);
