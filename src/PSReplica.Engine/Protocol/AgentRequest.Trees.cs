namespace PSReplica.Engine.Protocol;

/// <summary>The requests of the "trees" capability: directories the user named besides the root (-LinkDest,
/// -CompareDest, -CopyDest, -BackupDirectory), opened once by path as tree numbers, and the operations that use them;
/// backups; hard links within the destination; removal of sent source files. Fields: OpenTree: Path (the user's path,
/// not a peer name), Index. ListTree: Path, Index, Flag (recursive). LinkFromTree and CopyFromTree: Path, Index,
/// Attributes. TreeSignature: Path, Index, BlockLength. ApplyTreeDelta: Path, Index, Other (basis in the tree),
/// BlockLength, Length, Attributes (body: delta ops). Backup: Path, Index (<see cref="NoTree"/>: beside the item),
/// Other (suffix). LinkWithin: Path, Other (the existing name). RemoveSource: Path, Length, Attributes (the time).
/// DescribeCopy (capability "verify-copies"): Path.
/// DescribeFileSystem (capability "file-system-traits"): Path (a directory, "" the root), Flag (measure).
/// MoveWithin (capability "move-within"): Path (the directory), Other (its new name); neither may be the root.
/// LinkSymlinkFromTree (capability "link-symlinks"): Path, Index, Other (the link's target), Attributes.
/// DescribeTreeCopy (capability "verify-basis-copies"): Path, Index.</summary>
internal sealed partial record AgentRequest
{
    /// <summary>How many trees a session may open (rsync allows 20 basis directories; one more is the backup directory).</summary>
    public const int MaxTrees = 32;

    /// <summary>The Index of a Backup kept beside its item instead of in a tree.</summary>
    public const int NoTree = MaxTrees;

    /// <summary>The tree a request of this capability names.</summary>
    public int Index { get; init; }

    private void WriteTreeFields(WireWriter writer)
    {
        switch (Type)
        {
            case RequestType.OpenTree:
                writer.UInt((uint)Index);
                break;
            case RequestType.ListTree:
                writer.UInt((uint)Index).Byte(Flag ? (byte)1 : (byte)0);
                break;
            case RequestType.LinkFromTree:
            case RequestType.CopyFromTree:
                writer.UInt((uint)Index);
                Attributes.Write(writer);
                break;
            case RequestType.DescribeTreeCopy:
                writer.UInt((uint)Index);
                break;
            case RequestType.LinkSymlinkFromTree:
                writer.UInt((uint)Index).String(Other);
                Attributes.Write(writer);
                break;
            case RequestType.TreeSignature:
                writer.UInt((uint)Index).UInt((uint)BlockLength);
                break;
            case RequestType.ApplyTreeDelta:
                writer.UInt((uint)Index).String(Other).UInt((uint)BlockLength).UInt((ulong)Length);
                Attributes.Write(writer);
                break;
            case RequestType.Backup:
                writer.UInt((uint)Index).String(Other);
                break;
            case RequestType.LinkWithin:
            case RequestType.MoveWithin:
                writer.String(Other);
                break;
            case RequestType.RemoveSource:
                writer.UInt((ulong)Length);
                Attributes.Write(writer);
                if (NodeType != 0)
                {
                    WriteNodeIdentity(writer);
                }

                break;
            case RequestType.DescribeFileSystem:
                writer.Byte(Flag ? (byte)1 : (byte)0);
                break;
        }
    }

    private static AgentRequest ReadTreeRequest(byte type, ref WireReader reader)
    {
        if (type > (byte)RequestType.DescribeTreeCopy)
        {
            throw ProtocolFault.Violation($"an unknown request type 0x{type:x2}");
        }

        var kind = (RequestType)type;
        string raw = reader.String(ProtocolLimits.MaxPathBytes);
        string path = kind == RequestType.OpenTree ? CheckUserPath(raw)
            : PeerNames.CheckPath(raw, allowRoot: kind is RequestType.ListTree or RequestType.DescribeFileSystem);
        var request = new AgentRequest(kind, path);
        switch (kind)
        {
            case RequestType.OpenTree:
                request = request with { Index = TreeIndex(ref reader) };
                break;
            case RequestType.ListTree:
                request = request with { Index = TreeIndex(ref reader), Flag = reader.UInt(1) == 1 };
                break;
            case RequestType.LinkFromTree:
            case RequestType.CopyFromTree:
                request = request with { Index = TreeIndex(ref reader), Attributes = AttributeSet.Read(ref reader) };
                break;
            case RequestType.DescribeTreeCopy:
                request = request with { Index = TreeIndex(ref reader) };
                break;
            case RequestType.LinkSymlinkFromTree:
                request = request with
                {
                    Index = TreeIndex(ref reader),
                    Other = PeerNames.CheckLinkTarget(reader.String(ProtocolLimits.MaxLinkTargetBytes)),
                    Attributes = AttributeSet.Read(ref reader),
                };
                break;
            case RequestType.TreeSignature:
                request = request with { Index = TreeIndex(ref reader), BlockLength = reader.Int32(Delta.BlockSizing.MaxBlockLength) };
                break;
            case RequestType.ApplyTreeDelta:
                request = request with
                {
                    Index = TreeIndex(ref reader),
                    Other = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false),
                    BlockLength = reader.Int32(Delta.BlockSizing.MaxBlockLength),
                    Length = reader.Int64(),
                    Attributes = AttributeSet.Read(ref reader),
                };
                if (request.BlockLength == 0)
                {
                    throw ProtocolFault.Violation("a delta without a block length");
                }

                break;
            case RequestType.Backup:
                int index = reader.Int32(NoTree);
                string suffix = reader.String(ProtocolLimits.MaxNameBytes);
                if (suffix.Contains('/', StringComparison.Ordinal) || suffix.Contains('\0', StringComparison.Ordinal) || (index == NoTree && suffix.Length == 0))
                {
                    throw ProtocolFault.UnsafePath(suffix, "a backup suffix must be a name's tail (and not empty beside the item)");
                }

                request = request with { Index = index, Other = suffix };
                break;
            case RequestType.LinkWithin:
            case RequestType.MoveWithin:
                request = request with { Other = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false) };
                break;
            case RequestType.RemoveSource:
                request = request with { Length = reader.Int64(), Attributes = AttributeSet.Read(ref reader) };
                if (!request.Attributes.Has(AttributeFields.Time))
                {
                    throw ProtocolFault.Violation("a source removal without the time it was listed with");
                }

                if (!reader.AtEnd)
                {
                    (int nodeType, ulong number) = ReadNodeIdentity(ref reader, request.Path);
                    request = request with { NodeType = nodeType, DeviceNumber = number };
                }

                break;
            case RequestType.DescribeCopy:
                break;
            case RequestType.DescribeFileSystem:
                request = request with { Flag = reader.UInt(1) == 1 };
                break;
            default:
                throw ProtocolFault.Violation($"an unknown request type 0x{type:x2}");
        }

        reader.ExpectEnd();
        return request;
    }

    private static int TreeIndex(ref WireReader reader) => reader.Int32(MaxTrees - 1);

    /// <summary>A directory the user named: any path (it is the user's, like the root), but not empty and without NUL.</summary>
    private static string CheckUserPath(string path) =>
        path.Length == 0 || path.Contains('\0', StringComparison.Ordinal)
            ? throw ProtocolFault.Violation("an empty directory path, or one with NUL, to open")
            : path;
}
