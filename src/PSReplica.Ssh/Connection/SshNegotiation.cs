namespace PSReplica.Ssh;

/// <summary>The algorithms a connection agreed on, for diagnostics and the transport benchmark.</summary>
public sealed record SshNegotiation(
    string ServerVersion,
    string KeyExchange,
    string HostKeyAlgorithm,
    string ClientToServerCipher,
    string ServerToClientCipher,
    string ClientToServerMac,
    string ServerToClientMac)
{
    public override string ToString() =>
        $"kex {KeyExchange}, host key {HostKeyAlgorithm}, cipher {ClientToServerCipher}/{ServerToClientCipher}, mac {ClientToServerMac}/{ServerToClientMac}, server {ServerVersion}";
}
