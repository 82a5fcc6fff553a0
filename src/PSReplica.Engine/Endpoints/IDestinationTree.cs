using PSReplica.Engine.Client;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>A destination tree the executor cannot reach by path (an agent as receiver). Paths are relative to its
/// root ("" is the root). Each call completes the operation and throws <see cref="SyncException"/> on failure; calls
/// may come from several workers at once.</summary>
internal interface IDestinationTree
{
    void CreateDirectory(string relative, AttributeSet attributes, CancellationToken cancellation);

    /// <summary>Writes the local file <paramref name="source"/> as <paramref name="relative"/> (temp file, verified,
    /// attributes, rename). With <paramref name="delta"/>, the existing file there is the basis.</summary>
    TransferResult WriteFile(string relative, FileEntry source, bool delta, int? blockLength, AttributeSet attributes,
        Action<long>? progress, CancellationToken cancellation);

    void CreateSymbolicLink(string relative, string target, AttributeSet attributes, CancellationToken cancellation);

    void SetAttributes(string relative, AttributeSet attributes, CancellationToken cancellation);

    void Delete(string relative, bool isDirectory, CancellationToken cancellation);

    /// <summary>Whether the receiver limits a new item's mode itself without -Preserve Permissions, by the default ACL
    /// of the directory it is made in, else its own umask (<see cref="Protocol.AttributeFields.DefaultPermissions"/>,
    /// as rsync's receiver does); otherwise the controller's umask limits it.</summary>
    bool LimitsNewModes => false;
}
