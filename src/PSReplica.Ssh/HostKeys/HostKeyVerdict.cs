namespace PSReplica.Ssh;

/// <summary>What known_hosts says about a key a server presented.</summary>
public enum HostKeyVerdict
{
    /// <summary>A line for this host holds exactly this key.</summary>
    Known,

    /// <summary>No line names this host.</summary>
    Unknown,

    /// <summary>Lines name this host, none with this key: the key changed, or someone is in the middle.</summary>
    Mismatch,

    /// <summary>The key is marked <c>@revoked</c>.</summary>
    Revoked,
}
