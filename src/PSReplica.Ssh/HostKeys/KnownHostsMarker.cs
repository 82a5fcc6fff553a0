namespace PSReplica.Ssh;

/// <summary>The <c>@</c> marker that may start a known_hosts line.</summary>
public enum KnownHostsMarker
{
    None,

    /// <summary><c>@revoked</c>: the key is refused for the hosts named.</summary>
    Revoked,

    /// <summary><c>@cert-authority</c>: host certificates are not supported; such lines are ignored.</summary>
    CertAuthority,

    /// <summary>A marker OpenSSH does not define either; the line is ignored.</summary>
    Unknown,
}
