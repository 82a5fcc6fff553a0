namespace PSReplica.Engine.Endpoints;

/// <summary>A destination that links the names of a hard-link group (-Preserve HardLinks) to each other: an agent, or an
/// SFTP server that offers hardlink@openssh.com.</summary>
internal interface IHardLinkDestination
{
    /// <summary>Hard-links the destination's <paramref name="existing"/> (already written) as <paramref name="relative"/>,
    /// replacing what stands there in one step.</summary>
    void LinkWithin(string relative, string existing, CancellationToken cancellation);
}
