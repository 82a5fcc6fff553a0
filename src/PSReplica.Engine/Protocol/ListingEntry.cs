using System.Buffers.Binary;
using PSReplica.Engine.Native;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Protocol;

/// <summary>One entry of a directory listing as it crosses the wire: name, the statx fields the planner compares,
/// and a link's target.</summary>
internal readonly record struct ListingEntry(string Name, StatInfo Stat, string? LinkTarget)
{
    /// <summary>With <see cref="ListingFeatures.Checksums"/>: the regular file's XXH3-128, sent after its other fields.</summary>
    public UInt128? Checksum { get; init; }

    /// <summary>With <see cref="ListingFeatures.ExtendedAttributes"/>: a file's or directory's attributes of the listing's
    /// scope; null when they could not be read.</summary>
    public Metadata.ExtendedAttributeSet? ExtendedAttributes { get; init; }

    /// <summary>The listing carries attributes (<see cref="ListingFeatures.ExtendedAttributes"/>): <see cref="Write"/> sends
    /// them.</summary>
    public bool ListsExtendedAttributes { get; init; }

    /// <summary>The listing carries device numbers (<see cref="ListingFeatures.DeviceNumbers"/>): <see cref="Write"/> sends a
    /// device's major and minor.</summary>
    public bool ListsDeviceNumbers { get; init; }

    /// <summary>The fewest bytes one encoded entry takes (a one-byte name and a one-byte number per field).</summary>
    public const int MinEncodedLength = 12;

    public EntryKind Kind => FileEntry.KindOf(Stat);

    public void Write(WireWriter writer)
    {
        writer.String(Name)
            .UInt((uint)Stat.Mode)
            .UInt(Kind == EntryKind.File ? (ulong)Stat.Size : 0)
            .Int(Stat.MtimeSeconds)
            .UInt(Stat.MtimeNanoseconds)
            .UInt(Stat.Uid)
            .UInt(Stat.Gid)
            .UInt(Stat.Device)
            .UInt(Stat.Inode)
            .UInt(Stat.Nlink);
        WriteDeviceNumber(writer);
        if (Kind == EntryKind.SymbolicLink)
        {
            writer.String(LinkTarget ?? string.Empty);
        }

        if (Kind == EntryKind.File && Checksum is { } checksum)
        {
            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteUInt128LittleEndian(bytes, checksum);
            writer.Bytes(bytes);
        }

        WriteExtendedAttributes(writer);
    }

    /// <summary>With <see cref="ListsDeviceNumbers"/>, for a block or character device: its major and minor.</summary>
    public void WriteDeviceNumber(WireWriter writer)
    {
        if (ListsDeviceNumbers && Stat.IsDevice)
        {
            writer.UInt(Stat.Rdev >> 32).UInt(Stat.Rdev & 0xFFFF_FFFF);
        }
    }

    /// <summary>Reads what <see cref="WriteDeviceNumber"/> wrote, for a device of a listing that carries them (each number
    /// at most 2^32-1).</summary>
    public static ulong ReadDeviceNumber(ref WireReader reader, in StatInfo stat, bool devices) =>
        devices && stat.IsDevice ? (reader.UInt(uint.MaxValue) << 32) | reader.UInt(uint.MaxValue) : 0;

    /// <summary>With <see cref="ListsExtendedAttributes"/>, for a file or directory: 0 (unreadable) or 1 and the set.</summary>
    public void WriteExtendedAttributes(WireWriter writer)
    {
        if (!ListsExtendedAttributes || Kind is not (EntryKind.File or EntryKind.Directory))
        {
            return;
        }

        if (ExtendedAttributes is { } xattrs)
        {
            writer.Byte(1);
            xattrs.Write(writer);
        }
        else
        {
            writer.Byte(0);
        }
    }

    /// <summary>Reads what <see cref="WriteExtendedAttributes"/> wrote, when the listing carries <paramref name="scope"/>.</summary>
    public ListingEntry ReadExtendedAttributes(ref WireReader reader, Metadata.XattrScope scope)
    {
        if (scope == Metadata.XattrScope.None || Kind is not (EntryKind.File or EntryKind.Directory))
        {
            return this;
        }

        Metadata.ExtendedAttributeSet? xattrs = reader.UInt(1) == 1 ? Metadata.ExtendedAttributeSet.Read(ref reader, scope) : null;
        return this with { ExtendedAttributes = xattrs, ListsExtendedAttributes = true };
    }

    /// <summary>Reads and checks one entry: a safe single name, a known mode, bounded numbers, a valid link target.</summary>
    /// <param name="isRoot">The root's own entry, which has an empty name.</param>
    /// <param name="checksums">The listing carries a checksum after each regular file.</param>
    /// <param name="xattrs">The listing carries the attributes of this scope after each file and directory.</param>
    /// <param name="devices">The listing carries a device number after each block or character device.</param>
    public static ListingEntry Read(ref WireReader reader, bool isRoot = false, bool checksums = false, Metadata.XattrScope xattrs = Metadata.XattrScope.None,
        bool devices = false)
    {
        string name = reader.String(ProtocolLimits.MaxNameBytes);
        if (!isRoot || name.Length != 0)
        {
            PeerNames.CheckName(name);
        }

        int mode = (int)reader.UInt(0xFFFF);
        long size = reader.Int64();
        long seconds = reader.Signed();
        uint nanoseconds = (uint)reader.UInt(999_999_999);
        uint uid = (uint)reader.UInt(uint.MaxValue);
        uint gid = (uint)reader.UInt(uint.MaxValue);
        ulong device = reader.UInt();
        ulong inode = reader.UInt();
        uint nlink = (uint)reader.UInt(uint.MaxValue);
        var stat = new StatInfo(mode, nlink, uid, gid, inode, size, seconds, nanoseconds, device);
        stat = stat with { Rdev = ReadDeviceNumber(ref reader, stat, devices) };
        string? target = null;
        EntryKind kind = FileEntry.KindOf(stat);
        if (kind == EntryKind.SymbolicLink)
        {
            target = PeerNames.CheckLinkTarget(reader.String(ProtocolLimits.MaxLinkTargetBytes));
        }
        else if (kind != EntryKind.File && size != 0)
        {
            throw ProtocolFault.Violation($"a size for '{ProtocolFault.Printable(name)}', which is not a file");
        }

        UInt128? checksum = null;
        if (checksums && kind == EntryKind.File)
        {
            checksum = BinaryPrimitives.ReadUInt128LittleEndian(reader.Bytes(16));
        }

        return new ListingEntry(name, stat, target) { Checksum = checksum, ListsDeviceNumbers = devices }.ReadExtendedAttributes(ref reader, xattrs);
    }

    public FileEntry ToFileEntry(string fullPath) => new(Name, fullPath, Kind, Stat, LinkTarget) { ExtendedAttributes = ExtendedAttributes };
}
