namespace PSReplica.Engine.Protocol;

/// <summary>A request as the request frame carries it. Which fields a type uses:
/// List: Path, Flag (recursive), Listing (version 2). ReadFile: Path. ComputeDelta: Path (body: signature). BuildSignature: Path, BlockLength.
/// WriteFile: Path, Length, Attributes (body: data; body end: XXH3-128). ApplyDelta: Path, Other (basis), BlockLength,
/// Length, Attributes (body: delta ops). CreateDirectory and SetAttributes: Path, Attributes. CreateSymbolicLink: Path,
/// Other (target), Attributes. Delete: Path, Flag (directory). CreateNode: AgentRequest.Nodes.cs.</summary>
internal sealed partial record AgentRequest(RequestType Type, string Path)
{
    public string Other { get; init; } = string.Empty;

    public bool Flag { get; init; }

    public int BlockLength { get; init; }

    public long Length { get; init; }

    public AttributeSet Attributes { get; init; }

    /// <summary>List: what the walk applies besides listing (null: nothing, as in version 1).</summary>
    public ListingOptions? Listing { get; init; }

    /// <summary>Whether the controller streams a body after the request.</summary>
    public bool HasBody => Type is RequestType.ComputeDelta or RequestType.WriteFile or RequestType.ApplyDelta or RequestType.WriteBatch or RequestType.ReadBatch;

    public void Write(WireWriter writer)
    {
        writer.Byte((byte)Type).String(Path);
        switch (Type)
        {
            case RequestType.List:
                // Bit 0: recursive; bit 1: listing options follow (version 2).
                writer.Byte((byte)((Flag ? 1 : 0) | (Listing is null ? 0 : 2)));
                Listing?.Write(writer);
                break;
            case RequestType.Delete:
                writer.Byte(Flag ? (byte)1 : (byte)0);
                break;
            case RequestType.BuildSignature:
                writer.UInt((uint)BlockLength);
                break;
            case RequestType.WriteFile:
                writer.UInt((ulong)Length);
                Attributes.Write(writer);
                break;
            case RequestType.ApplyDelta:
                writer.String(Other).UInt((uint)BlockLength).UInt((ulong)Length);
                Attributes.Write(writer);
                break;
            case RequestType.CreateDirectory:
            case RequestType.SetAttributes:
                Attributes.Write(writer);
                break;
            case RequestType.CreateSymbolicLink:
                writer.String(Other);
                Attributes.Write(writer);
                break;
            case RequestType.CreateNode:
                WriteNodeFields(writer);
                break;
            case >= RequestType.DelayUpdates:
                WriteSafeUpdateFields(writer);
                break;
            case >= RequestType.PartialSignature:
                WritePartialFields(writer);
                break;
            default:
                WriteTreeFields(writer);
                break;
        }
    }

    /// <summary>Reads and checks a request: a known type, a safe path (the root only where a directory is meant),
    /// a basis inside the tree, bounded numbers.</summary>
    public static AgentRequest Read(ReadOnlySpan<byte> payload)
    {
        var reader = new WireReader(payload);
        byte type = reader.Byte();
        if (type == (byte)RequestType.SparseFiles)
        {
            if (PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: true).Length != 0)
            {
                throw ProtocolFault.Violation("a SparseFiles request for a path instead of the whole tree");
            }

            reader.ExpectEnd();
            return new AgentRequest(RequestType.SparseFiles, string.Empty);
        }

        if (type == (byte)RequestType.CreateNode)
        {
            return ReadNodeRequest(ref reader);
        }

        if (type >= (byte)RequestType.DelayUpdates)
        {
            return ReadSafeUpdateRequest(type, ref reader);
        }

        if (type >= (byte)RequestType.PartialSignature)
        {
            return ReadPartialRequest(type, ref reader);
        }

        if (type >= (byte)RequestType.OpenTree)
        {
            return ReadTreeRequest(type, ref reader);
        }

        if (type is < (byte)RequestType.List or > (byte)RequestType.ReadBatch)
        {
            throw ProtocolFault.Violation($"an unknown request type 0x{type:x2}");
        }

        var kind = (RequestType)type;
        bool rootAllowed = kind is RequestType.List or RequestType.CreateDirectory or RequestType.SetAttributes or RequestType.WriteBatch or RequestType.ReadBatch;
        string path = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), rootAllowed);
        var request = new AgentRequest(kind, path);
        switch (kind)
        {
            case RequestType.List:
                ulong flags = reader.UInt(3);
                request = request with { Flag = (flags & 1) != 0, Listing = (flags & 2) != 0 ? ListingOptions.Read(ref reader) : null };
                break;
            case RequestType.Delete:
                request = request with { Flag = ReadFlag(ref reader) };
                break;
            case RequestType.BuildSignature:
                request = request with { BlockLength = ReadBlockLength(ref reader) };
                break;
            case RequestType.WriteFile:
                request = request with { Length = reader.Int64(), Attributes = AttributeSet.Read(ref reader) };
                break;
            case RequestType.ApplyDelta:
                string basis = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false);
                request = request with
                {
                    Other = basis,
                    BlockLength = ReadBlockLength(ref reader),
                    Length = reader.Int64(),
                    Attributes = AttributeSet.Read(ref reader),
                };
                if (request.BlockLength == 0)
                {
                    throw ProtocolFault.Violation("a delta without a block length");
                }

                break;
            case RequestType.CreateDirectory:
            case RequestType.SetAttributes:
                request = request with { Attributes = AttributeSet.Read(ref reader) };
                break;
            case RequestType.CreateSymbolicLink:
                request = request with
                {
                    Other = PeerNames.CheckLinkTarget(reader.String(ProtocolLimits.MaxLinkTargetBytes)),
                    Attributes = AttributeSet.Read(ref reader),
                };
                break;
            case RequestType.WriteBatch or RequestType.ReadBatch when path.Length != 0:
                // Each record names its own file; the request itself names none.
                throw ProtocolFault.Violation($"a {kind} request that names a path");
        }

        reader.ExpectEnd();
        return request;
    }

    private static bool ReadFlag(ref WireReader reader) => reader.UInt(1) == 1;

    private static int ReadBlockLength(ref WireReader reader) => reader.Int32(Delta.BlockSizing.MaxBlockLength);
}
