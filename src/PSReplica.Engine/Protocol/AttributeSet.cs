namespace PSReplica.Engine.Protocol;

/// <summary>The attributes a request asks the receiver to give an item; a field applies only when its flag is set.</summary>
internal readonly record struct AttributeSet(AttributeFields Fields, int Mode, uint Uid, uint Gid, long MtimeSeconds, uint MtimeNanoseconds)
{
    public static AttributeSet None => default;

    public bool Has(AttributeFields field) => (Fields & field) != 0;

    public void Write(WireWriter writer)
    {
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

        return new AttributeSet(set, mode, uid, gid, seconds, nanoseconds);
    }
}
