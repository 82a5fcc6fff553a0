using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Endpoints;

/// <summary>A destination tree that makes devices, FIFOs and sockets (-Preserve Devices, Specials): an agent that lists
/// the "specials" capability. SFTP has no request for them, so its tree is not one (the options are refused up front).</summary>
internal interface INodeDestination
{
    /// <summary>Makes the node <paramref name="relative"/> (<paramref name="fileType"/>: its S_IFMT bits; <paramref name="rdev"/>:
    /// a device's number), replacing what stands there in one step.</summary>
    void CreateNode(string relative, int fileType, ulong rdev, AttributeSet attributes, CancellationToken cancellation);
}
