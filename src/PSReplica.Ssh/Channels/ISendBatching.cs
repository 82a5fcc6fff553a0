namespace PSReplica.Ssh;

/// <summary>
/// Lets a writer tell the network under its transport that more data follows at once, so that what it sends in several
/// calls may leave in full segments (Linux's TCP_CORK). Release pushes out whatever is held.
/// </summary>
internal interface ISendBatching
{
    /// <summary>Holds partial segments back: more data follows.</summary>
    void Hold();

    /// <summary>Sends what is held and stops holding: nothing more is known to follow.</summary>
    void Release();
}
