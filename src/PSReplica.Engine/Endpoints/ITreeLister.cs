using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>How the planner reads one side's tree, a directory at a time: the local file system, or an agent's
/// streamed listing.</summary>
internal interface ITreeLister
{
    /// <summary>The entries of one directory in ordinal name order.</summary>
    /// <param name="fullPath">The directory's path as the side names it (the root joined with <paramref name="relative"/>).</param>
    /// <param name="relative">The directory relative to the side's root ("" is the root).</param>
    /// <exception cref="SyncException">The directory could not be read.</exception>
    List<FileEntry> List(string fullPath, string relative);

    /// <summary>The entries of one directory that bear one of <paramref name="names"/>, in ordinal name order (a name not
    /// there is left out): what a -Watch batch plans of a directory it does not plan whole. The default lists the
    /// directory and keeps those; the local file system stats the names instead, so that a few files changed in a large
    /// directory do not cost its listing. With <paramref name="expected"/> (the entry its parent's listing gave) only while
    /// the directory is still that one, as <see cref="ListVerified"/> lists.</summary>
    /// <exception cref="SyncException">The directory could not be read.</exception>
    List<FileEntry> ListNames(string fullPath, string relative, IReadOnlySet<string> names, FileEntry? expected) =>
        (expected is null ? List(fullPath, relative) : ListVerified(expected, relative)).FindAll(entry => names.Contains(entry.Name));

    /// <summary>The entries of <paramref name="directory"/>, an entry of its parent's listing, only while it is still that
    /// directory: how the planner lists every directory below a root (but one -CopyLinks reached through a link), and a
    /// walker that lists ahead of it (see <see cref="PrefetchingTreeLister"/>). The default lists by path, as
    /// <see cref="List"/> does (an agent's or a server's listing, read once, in order).</summary>
    /// <exception cref="SyncException">The directory could not be read, or is no longer the one its parent listed.</exception>
    List<FileEntry> ListVerified(FileEntry directory, string relative) => List(directory.FullPath, relative);

    /// <summary>True when listings are read ahead of the planner on threads of their own (<see cref="PrefetchingTreeLister"/>):
    /// a <see cref="List"/> call then mostly takes what is already read, and handing it to another thread costs more
    /// than it saves.</summary>
    bool ListsAhead => false;

    /// <summary>Reads this side's per-directory filter files (by the full path the filter names); null: the local file
    /// system. An agent's listing brings the files its walk read.</summary>
    Func<string, string?>? FilterFileReader => null;

    /// <summary>The content checksum of a listed file when the side computed it (-Checksum through an agent); null:
    /// hash the file at its path.</summary>
    /// <exception cref="System.IO.IOException">The side could not read the file.</exception>
    UInt128? Checksum(FileEntry entry) => null;

    /// <summary>The extended attributes and ACLs of <paramref name="scope"/> of a listed file or directory (links have
    /// none: see <see cref="Metadata.ExtendedAttributeSet"/>); null when they cannot be read. The default reads them at
    /// the entry's path without following a final link; an agent's listing brings those it read.</summary>
    Metadata.ExtendedAttributeSet? ExtendedAttributes(FileEntry entry, Metadata.XattrScope scope) =>
        entry.ExtendedAttributes ??= Metadata.ExtendedAttributeSet.Read(Native.Posix.XattrTarget.Path(entry.FullPath), scope, out _);

    /// <summary>True when the side already followed links (-CopyLinks through an agent): an entry that is still a link
    /// has no referent.</summary>
    bool ResolvesLinks => false;

    /// <summary>What the file system of a destination directory can hold. <paramref name="device"/> null: the directory
    /// does not exist yet (the file system it will be on, never measured). With <paramref name="measure"/> the side may
    /// write a probe there. An agent's or SFTP's side: everything (not detected there).</summary>
    FileSystemTraits Traits(string fullPath, ulong? device, bool measure) => FileSystemTraits.Full;
}
