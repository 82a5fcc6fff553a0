using PSReplica.Engine.Client;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>What a remote destination does besides <see cref="IDestinationTree"/>: files from the basis directories on
/// its host (-LinkDest, -CompareDest, -CopyDest), backups (-Backup) and hard-link groups (-Preserve HardLinks). Paths
/// are relative to the destination root; a basis file has the same relative path in basis directory
/// <c>index</c>.</summary>
internal interface IBasisDestination : IHardLinkDestination
{
    /// <summary>Hard-links the basis file as <paramref name="relative"/>; where the filesystem refuses, it is copied there
    /// instead (with <paramref name="attributes"/>) and the errno says why. With <paramref name="linkTarget"/>, the basis
    /// item is a symbolic link that must point there (made anew where it cannot be linked).</summary>
    (bool Linked, int Errno, long Length) LinkFromBasis(string relative, int index, AttributeSet attributes, string? linkTarget,
        CancellationToken cancellation);

    /// <summary>Copies the basis file as <paramref name="relative"/> on the destination's host (-CopyDest).</summary>
    TransferResult CopyFromBasis(string relative, int index, AttributeSet attributes, CancellationToken cancellation);

    /// <summary>Writes the local <paramref name="source"/> as <paramref name="relative"/> by delta against the basis file.</summary>
    TransferResult WriteFileFromBasis(string relative, FileEntry source, int index, int? blockLength, AttributeSet attributes,
        Action<long>? progress, CancellationToken cancellation);

    /// <summary>Keeps the file or link at <paramref name="relative"/> as its backup before it is replaced or deleted.</summary>
    void Backup(string relative, CancellationToken cancellation);

    /// <summary>Whether backups stay beside their files (no backup directory): a deleted directory may then hold some.</summary>
    bool BacksUpBeside { get; }
}
