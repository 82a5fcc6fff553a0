namespace PSReplica.Engine.Protocol;

/// <summary>The requests of the "partial" capability (-Partial and -PartialDirectory on a push). Fields: PartialSignature:
/// Path (the target), Other (its partial file), BlockLength; the signature is that of the partial file when it is a
/// regular file, else of the target when it is one, else empty. ApplyPartialDelta: Path, Other, Flag (the partial file's
/// directory is a partial directory, made when missing and removed when empty), BlockLength, Length, Attributes (body:
/// delta ops against the same basis the signature chose). The partial file lies beside the target, or one directory
/// below the target's directory when Flag is set.</summary>
internal sealed partial record AgentRequest
{
    private void WritePartialFields(WireWriter writer)
    {
        switch (Type)
        {
            case RequestType.PartialSignature:
                writer.String(Other).UInt((uint)BlockLength);
                break;
            case RequestType.ApplyPartialDelta:
                writer.String(Other).Byte(Flag ? (byte)1 : (byte)0).UInt((uint)BlockLength).UInt((ulong)Length);
                Attributes.Write(writer);
                break;
        }
    }

    private static AgentRequest ReadPartialRequest(byte type, ref WireReader reader)
    {
        if (type is not ((byte)RequestType.PartialSignature or (byte)RequestType.ApplyPartialDelta))
        {
            throw ProtocolFault.Violation($"an unknown request type 0x{type:x2}");
        }

        var kind = (RequestType)type;
        string path = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false);
        string partial = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false);
        var request = new AgentRequest(kind, path) { Other = partial };
        if (kind == RequestType.PartialSignature)
        {
            request = request with { BlockLength = reader.Int32(Delta.BlockSizing.MaxBlockLength) };
        }
        else
        {
            request = request with
            {
                Flag = reader.UInt(1) == 1,
                BlockLength = reader.Int32(Delta.BlockSizing.MaxBlockLength),
                Length = reader.Int64(),
                Attributes = AttributeSet.Read(ref reader),
            };
            if (request.BlockLength == 0)
            {
                throw ProtocolFault.Violation("a delta without a block length");
            }
        }

        // The partial file belongs to its target: beside it, or in a partial directory inside the target's directory.
        string directory = DirectoryOf(path);
        string partialDirectory = DirectoryOf(partial);
        bool placed = kind == RequestType.ApplyPartialDelta && request.Flag
            ? partialDirectory.Length > 0 && DirectoryOf(partialDirectory) == directory
            : partialDirectory == directory || (kind == RequestType.PartialSignature && DirectoryOf(partialDirectory) == directory && partialDirectory.Length > 0);
        if (!placed || partial == path)
        {
            throw ProtocolFault.UnsafePath(partial, "a partial file must lie beside its target or in a partial directory beside it");
        }

        reader.ExpectEnd();
        return request;
    }

    private static string DirectoryOf(string relative)
    {
        int slash = relative.LastIndexOf('/');
        return slash < 0 ? string.Empty : relative[..slash];
    }
}
