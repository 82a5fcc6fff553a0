namespace PSReplica.Engine.Protocol;

/// <summary>The attributes a request asks the receiver to give an item; a field applies only when its flag is set.</summary>
internal readonly record struct AttributeSet(AttributeFields Fields, int Mode, uint Uid, uint Gid, long MtimeSeconds, uint MtimeNanoseconds)
{
    public static AttributeSet None => default;

    /// <summary>With <see cref="AttributeFields.ExtendedAttributes"/>: the item's attributes of <see cref="XattrScope"/>
    /// become exactly these (others of the scope are removed).</summary>
    public Metadata.ExtendedAttributeSet? ExtendedAttributes { get; init; }

    /// <summary>The namespaces <see cref="ExtendedAttributes"/> covers.</summary>
    public Metadata.XattrScope XattrScope { get; init; }

    /// <summary>With <see cref="AttributeFields.FileAttributes"/>: Windows' ReadOnly, Hidden, System and Archive
    /// attributes the item gets (<see cref="System.IO.FileAttributes"/> bits).</summary>
    public int FileAttributes { get; init; }

    public bool Has(AttributeFields field) => (Fields & field) != 0;

    public void Write(WireWriter writer)
    {
        if (Has(AttributeFields.FileAttributes))
        {
            // Refused before any run that would send them (DestinationCapabilities.FileAttributes).
            throw new InvalidOperationException("Windows' file attributes cannot be sent to a peer.");
        }

        writer.Byte((byte)Fields);
        if (Has(AttributeFields.Mode))
        {
            writer.UInt((uint)Mode);
        }

        if (Has(AttributeFields.Uid))
        {
            writer.UInt(Uid);
        }

        if (Has(AttributeFields.Gid))
        {
            writer.UInt(Gid);
        }

        if (Has(AttributeFields.Time))
        {
            writer.Int(MtimeSeconds).UInt(MtimeNanoseconds);
        }

        if (Has(AttributeFields.ExtendedAttributes))
        {
            writer.Byte((byte)XattrScope);
            (ExtendedAttributes ?? Metadata.ExtendedAttributeSet.Empty).Write(writer);
        }
    }

    public static AttributeSet Read(ref WireReader reader)
    {
        byte fields = reader.Byte();
        if ((fields & ~(byte)AttributeFields.All) != 0)
        {
            throw ProtocolFault.Violation($"unknown attribute flags 0x{fields:x2}");
        }

        var set = (AttributeFields)fields;
        int mode = (set & AttributeFields.Mode) != 0 ? (int)reader.UInt(0xFFF) : 0;
        uint uid = (set & AttributeFields.Uid) != 0 ? (uint)reader.UInt(uint.MaxValue) : 0;
        uint gid = (set & AttributeFields.Gid) != 0 ? (uint)reader.UInt(uint.MaxValue) : 0;
        long seconds = 0;
        uint nanoseconds = 0;
        if ((set & AttributeFields.Time) != 0)
        {
            seconds = reader.Signed();
            nanoseconds = (uint)reader.UInt(999_999_999);
        }

        Metadata.ExtendedAttributeSet? xattrs = null;
        var scope = Metadata.XattrScope.None;
        if ((set & AttributeFields.ExtendedAttributes) != 0)
        {
            byte scopeBits = reader.Byte();
            if ((scopeBits & ~(byte)Metadata.XattrScope.All) != 0)
            {
                throw ProtocolFault.Violation($"unknown extended attribute scope 0x{scopeBits:x2}");
            }

            scope = (Metadata.XattrScope)scopeBits;
            // None and an empty set ask the same (remove every attribute of the scope); null keeps requests comparable.
            xattrs = Metadata.ExtendedAttributeSet.Read(ref reader, scope) is { Count: > 0 } read ? read : null;
        }

        return new AttributeSet(set, mode, uid, gid, seconds, nanoseconds) { ExtendedAttributes = xattrs, XattrScope = scope };
    }
}
