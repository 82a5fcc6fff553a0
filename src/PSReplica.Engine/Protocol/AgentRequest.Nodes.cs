namespace PSReplica.Engine.Protocol;

/// <summary>The request of the "specials" capability: CreateNode (a device, FIFO or socket; -Preserve Devices, Specials on
/// a push). Fields: Path (never the root), the node's type (its S_IFMT bits shifted down by 12: 1 FIFO, 2 character
/// device, 6 block device, 12 socket), a device's major and minor (each at most 2^32-1; both 0 for a FIFO or socket),
/// Attributes.</summary>
internal sealed partial record AgentRequest
{
    /// <summary>CreateNode: the S_IFMT bits of the node to make.</summary>
    public int NodeType { get; init; }

    /// <summary>CreateNode: a device's number as <see cref="Native.StatInfo.Rdev"/> holds it (major high, minor low); 0 otherwise.</summary>
    public ulong DeviceNumber { get; init; }

    private void WriteNodeFields(WireWriter writer)
    {
        writer.Byte((byte)(NodeType >> 12)).UInt(DeviceNumber >> 32).UInt(DeviceNumber & 0xFFFF_FFFF);
        Attributes.Write(writer);
    }

    /// <summary>Reads CreateNode's fields after the type byte: a path that is not the root, a known node type, a device
    /// number only for a device.</summary>
    private static AgentRequest ReadNodeRequest(ref WireReader reader)
    {
        string path = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false);
        int type = reader.Byte() << 12;
        if (type is not (Native.Posix.SIfblk or Native.Posix.SIfchr or Native.Posix.SIfifo or Native.Posix.SIfsock))
        {
            throw ProtocolFault.Violation($"a node type 0x{type >> 12:x2}, which is not a device, FIFO or socket");
        }

        ulong major = reader.UInt(uint.MaxValue);
        ulong minor = reader.UInt(uint.MaxValue);
        if (type is Native.Posix.SIfifo or Native.Posix.SIfsock && (major | minor) != 0)
        {
            throw ProtocolFault.Violation($"a device number for '{ProtocolFault.Printable(path)}', which is not a device");
        }

        var request = new AgentRequest(RequestType.CreateNode, path)
        {
            NodeType = type,
            DeviceNumber = (major << 32) | minor,
            Attributes = AttributeSet.Read(ref reader),
        };
        reader.ExpectEnd();
        return request;
    }
}
