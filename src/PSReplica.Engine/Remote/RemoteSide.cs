namespace PSReplica;

/// <summary>Which side of a run the agent serves.</summary>
public enum RemoteSide
{
    /// <summary>A pull: the agent holds the source (rsync's sender).</summary>
    Source,

    /// <summary>A push: the agent holds the destination (rsync's receiver).</summary>
    Destination,
}
