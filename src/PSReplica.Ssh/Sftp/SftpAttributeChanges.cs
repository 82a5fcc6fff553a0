namespace PSReplica.Ssh;

/// <summary>The attributes to set on a server path; null members are left as they are.</summary>
public sealed record SftpAttributeChanges
{
    public DateTime? LastWriteTimeUtc { get; init; }

    public DateTime? LastAccessTimeUtc { get; init; }

    /// <summary>Permission bits (for example 0o644 = 420), with the set-user-ID, set-group-ID and sticky bits.</summary>
    public int? Mode { get; init; }

    public int? UserId { get; init; }

    public int? GroupId { get; init; }
}
