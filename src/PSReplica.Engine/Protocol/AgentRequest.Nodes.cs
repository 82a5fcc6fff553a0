namespace PSReplica.Engine.Protocol;

/// <summary>The request of the "specials" capability: CreateNode (a device, FIFO or socket; -Preserve Devices, Specials on
/// a push). Fields: Path (never the root), the node's type (its S_IFMT bits shifted down by 12: 1 FIFO, 2 character
/// device, 6 block device, 12 socket), a device's major and minor (each at most 2^32-1; both 0 for a FIFO or socket),
/// Attributes. RemoveSource (with the same capability) may end with a node's type and number in the same form: the
/// node the source must still hold to be removed.</summary>
internal sealed partial record AgentRequest
{
    /// <summary>CreateNode: the S_IFMT bits of the node to make; RemoveSource: of the node to remove (0: a file or link).</summary>
    public int NodeType { get; init; }

    /// <summary>CreateNode: a device's number as <see cref="Native.StatInfo.Rdev"/> holds it (major high, minor low); 0 otherwise.</summary>
    public ulong DeviceNumber { get; init; }

    private void WriteNodeFields(WireWriter writer)
    {
        WriteNodeIdentity(writer);
        Attributes.Write(writer);
    }

    private void WriteNodeIdentity(WireWriter writer) =>
        writer.Byte((byte)(NodeType >> 12)).UInt(DeviceNumber >> 32).UInt(DeviceNumber & 0xFFFF_FFFF);

    /// <summary>A node's type (a device, FIFO or socket: nothing else) and its device number (0 unless a device).</summary>
    private static (int Type, ulong DeviceNumber) ReadNodeIdentity(ref WireReader reader, string path)
    {
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

        return (type, (major << 32) | minor);
    }

    /// <summary>Reads CreateNode's fields after the type byte: a path that is not the root, a known node type, a device
    /// number only for a device.</summary>
    private static AgentRequest ReadNodeRequest(ref WireReader reader)
    {
        string path = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false);
        (int type, ulong number) = ReadNodeIdentity(ref reader, path);
        var request = new AgentRequest(RequestType.CreateNode, path)
        {
            NodeType = type,
            DeviceNumber = number,
            Attributes = AttributeSet.Read(ref reader),
        };
        reader.ExpectEnd();
        return request;
    }
}
