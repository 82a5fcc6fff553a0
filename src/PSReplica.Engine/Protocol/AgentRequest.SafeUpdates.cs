namespace PSReplica.Engine.Protocol;

/// <summary>The requests of the "safe-updates" capability (-DelayUpdates and -Inplace on a push). Fields: DelayUpdates and
/// CommitUpdates: Path (always the root, ""). ApplyInplaceDelta: Path, BlockLength, Length, Attributes (body: delta ops
/// against the file at Path as it was when its signature was built). WriteInplace: Path, Flag (create the file; it must
/// not exist), Length, Attributes (body: data; body end: XXH3-128).</summary>
internal sealed partial record AgentRequest
{
    private void WriteSafeUpdateFields(WireWriter writer)
    {
        switch (Type)
        {
            case RequestType.ApplyInplaceDelta:
                writer.UInt((uint)BlockLength).UInt((ulong)Length);
                Attributes.Write(writer);
                break;
            case RequestType.WriteInplace:
                writer.Byte(Flag ? (byte)1 : (byte)0).UInt((ulong)Length);
                Attributes.Write(writer);
                break;
        }
    }

    private static AgentRequest ReadSafeUpdateRequest(byte type, ref WireReader reader)
    {
        if (type is < (byte)RequestType.DelayUpdates or > (byte)RequestType.WriteInplace)
        {
            throw ProtocolFault.Violation($"an unknown request type 0x{type:x2}");
        }

        var kind = (RequestType)type;
        bool session = kind is RequestType.DelayUpdates or RequestType.CommitUpdates;
        string path = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: session);
        if (session && path.Length != 0)
        {
            throw ProtocolFault.Violation($"a {kind} request for '{path}' instead of the whole tree");
        }

        var request = new AgentRequest(kind, path);
        switch (kind)
        {
            case RequestType.ApplyInplaceDelta:
                request = request with
                {
                    BlockLength = reader.Int32(Delta.BlockSizing.MaxBlockLength),
                    Length = reader.Int64(),
                    Attributes = AttributeSet.Read(ref reader),
                };
                if (request.BlockLength == 0)
                {
                    throw ProtocolFault.Violation("a delta without a block length");
                }

                break;
            case RequestType.WriteInplace:
                request = request with { Flag = reader.UInt(1) == 1, Length = reader.Int64(), Attributes = AttributeSet.Read(ref reader) };
                break;
        }

        reader.ExpectEnd();
        return request;
    }
}
