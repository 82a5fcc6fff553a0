namespace PSReplica.Ssh;

/// <summary>
/// The room the peer has left for a channel's data (the SSH window). A transport that splits data at the window's edge
/// (SSH.NET sends what the window allows, however little, then waits) leaves a short packet there; a writer that
/// knows the window hands it only whole packets that fit.
/// </summary>
internal interface ISendWindow
{
    /// <summary>The bytes the peer takes now.</summary>
    long Available { get; }

    /// <summary>Waits until the window may have grown or <paramref name="timeout"/> has passed.</summary>
    /// <returns>False when the time ran out without a sign of growth.</returns>
    bool WaitForGrowth(TimeSpan timeout);
}
