namespace PSReplica.Engine.Protocol;

/// <summary>The first byte of a request frame's payload: what the controller asks of the agent.</summary>
internal enum RequestType : byte
{
    /// <summary>Both roles: the entries of a directory (and, recursively, of its subdirectories).</summary>
    List = 1,

    /// <summary>Sender: a file's bytes.</summary>
    ReadFile = 2,

    /// <summary>Sender: the delta of a file against the signature in the request's body.</summary>
    ComputeDelta = 3,

    /// <summary>Receiver: the block signature of a basis file.</summary>
    BuildSignature = 4,

    /// <summary>Receiver: a whole file from the body, verified, renamed into place, attributes applied.</summary>
    WriteFile = 5,

    /// <summary>Receiver: a file rebuilt from a basis and the delta ops in the body.</summary>
    ApplyDelta = 6,

    CreateDirectory = 7,
    CreateSymbolicLink = 8,
    SetAttributes = 9,
    Delete = 10,

    /// <summary>Receiver (capability "write-batch"): many small whole files in one body, each written as WriteFile writes
    /// one and answered in order with its own result record (Remote/BatchCodec.cs).</summary>
    WriteBatch = 11,

    /// <summary>Sender (capability "read-batch"): many small files read in one request, the body naming them and the
    /// answer carrying each in order (Remote/BatchCodec.cs).</summary>
    ReadBatch = 12,

    // Requests of the "trees" capability (AgentRequest.Trees.cs), numbered apart so other additions do not collide.

    /// <summary>Receiver: opens a directory the user named (a -LinkDest/-CompareDest/-CopyDest dir or the backup
    /// directory) by path, relative to the root when relative, as tree number Index.</summary>
    OpenTree = 32,

    /// <summary>Receiver: lists a directory of tree Index, as List does for the root's tree.</summary>
    ListTree = 33,

    /// <summary>Receiver: hard-links the file at Path in tree Index to Path in the destination (a copy when it cannot).</summary>
    LinkFromTree = 34,

    /// <summary>Receiver: copies the file at Path in tree Index to Path in the destination (-CopyDest).</summary>
    CopyFromTree = 35,

    /// <summary>Receiver: the block signature of the file at Path in tree Index (a basis from a basis directory).</summary>
    TreeSignature = 36,

    /// <summary>Receiver: ApplyDelta whose basis Other is in tree Index.</summary>
    ApplyTreeDelta = 37,

    /// <summary>Receiver: keeps the item at Path as a backup (beside it with suffix Other, or in tree Index) before it is
    /// replaced or deleted.</summary>
    Backup = 38,

    /// <summary>Receiver: hard-links Other (in the destination) as Path (-Preserve HardLinks).</summary>
    LinkWithin = 39,

    /// <summary>Sender: removes a source file or link that still has the listed length and time (-RemoveSourceFiles).</summary>
    RemoveSource = 40,

    /// <summary>Receiver (capability "verify-copies"): the item at Path as it is now, a regular file with the XXH3-128 of
    /// its content (-RemoveSourceFiles on a push verifies each copy by it before the source goes).</summary>
    DescribeCopy = 41,

    /// <summary>Receiver (capability "file-system-traits"): what the file system of the directory at Path can hold
    /// (<see cref="Endpoints.FileSystemTraits"/>); Flag: the agent may measure it with a probe file there.</summary>
    DescribeFileSystem = 42,

    /// <summary>Receiver (capability "move-within"): -Watch: moves the directory at Path to Other within the destination,
    /// as its source was renamed; the answer is 0 or the errno that kept it from moving.</summary>
    MoveWithin = 43,

    /// <summary>Receiver (capability "link-symlinks"): -LinkDest for a symbolic link: hard-links the link at Path in tree
    /// Index to Path in the destination if it still points to Other (made anew with Attributes when it cannot be linked).</summary>
    LinkSymlinkFromTree = 44,

    /// <summary>Receiver (capability "verify-basis-copies"): DescribeCopy of the item at Path in tree Index (-CompareDest
    /// with -RemoveSourceFiles: the basis's file stands for the copy a source is removed against).</summary>
    DescribeTreeCopy = 45,

    // Requests of the "partial" capability (AgentRequest.Partial.cs).

    /// <summary>The signature of a target's partial file, or of the target when there is none.</summary>
    PartialSignature = 48,

    /// <summary>A delta written through the target's partial file, which stays when the transfer fails.</summary>
    ApplyPartialDelta = 49,

    // Requests of the "safe-updates" capability (AgentRequest.SafeUpdates.cs).

    /// <summary>Receiver: from now on, files written, copied or linked wait complete under their temp (or partial) names
    /// until CommitUpdates (-DelayUpdates); the session's end removes those still waiting.</summary>
    DelayUpdates = 56,

    /// <summary>Receiver: renames every waiting file into place, one after the other; the answer lists those that failed.</summary>
    CommitUpdates = 57,

    /// <summary>Receiver: -Inplace: the delta ops in the body rewrite the file at Path itself, which is also their basis.</summary>
    ApplyInplaceDelta = 58,

    /// <summary>Receiver: -Inplace: the data in the body is written over the file at Path from its start (made when Flag).</summary>
    WriteInplace = 59,

    /// <summary>Receiver (capability "sparse"): from now on, new files leave holes where whole blocks of them are zeros
    /// (-Sparse); Path is always the root, "".</summary>
    SparseFiles = 64,

    /// <summary>Receiver (capability "specials"): makes the device, FIFO or socket at Path (-Preserve Devices, Specials),
    /// replacing what stands there; an ordered change, as CreateSymbolicLink is.</summary>
    CreateNode = 72,
}
