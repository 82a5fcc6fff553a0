using System.Buffers.Binary;
using System.Text;
using PSReplica.Engine.Native;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Protocol;

/// <summary>The entries of one listing batch (an <c>e</c> record) as the <see cref="Handshake.CompactListings"/>
/// capability encodes them: each relative to the one before it in the batch. A flags number says which fields equal
/// the previous entry's and are left out; the name is the length of the prefix it shares with the previous name plus
/// the rest; the time's seconds and the inode are differences. Device, inode and link count go only with directories
/// (the planner's loop guard) and with items of more than one link (the only ones a hard link can join); the reader gives
/// every other item an identity of its own that matches nothing. The idea follows rsync's flist.c (fields equal to the
/// previous entry's are left out); the format is PSReplica's own. A new batch starts from a blank previous entry, so a
/// batch is decoded without anything outside it.</summary>
internal sealed class CompactListingCodec
{
    /// <summary>The fewest bytes one encoded entry takes: flags, prefix length, suffix length, one suffix byte.</summary>
    public const int MinEncodedLength = 4;

    /// <summary>The device given to an item sent without its identity (as the SFTP lister does): no real device.</summary>
    public const ulong NoDevice = ulong.MaxValue;

    private const uint SameMode = 1;
    private const uint SameUid = 2;
    private const uint SameGid = 4;
    private const uint SameSeconds = 8;
    private const uint SameNanoseconds = 16;
    private const uint HasIdentity = 32;
    private const uint SameDevice = 64;
    private const uint SameLinkCount = 128;
    private const uint AllFlags = 255;

    private static long s_nextIdentity;

    private readonly byte[] _name = new byte[ProtocolLimits.MaxNameBytes];
    private int _nameLength;
    private int _mode;
    private uint _uid;
    private uint _gid;
    private long _seconds;
    private uint _nanoseconds;
    private ulong _device;
    private ulong _inode;
    private uint _nlink;

    /// <summary>Forgets the previous entry: the start of a batch.</summary>
    public void Reset()
    {
        _nameLength = 0;
        _mode = 0;
        _uid = 0;
        _gid = 0;
        _seconds = 0;
        _nanoseconds = 0;
        _device = 0;
        _inode = 0;
        _nlink = 0;
    }

    /// <summary>Whether an entry's device, inode and link count go on the wire.</summary>
    public static bool SendsIdentity(ListingEntry entry) => entry.Kind == EntryKind.Directory || entry.Stat.Nlink > 1;

    public void Write(WireWriter writer, ListingEntry entry)
    {
        ArgumentNullException.ThrowIfNull(writer);
        StatInfo stat = entry.Stat;
        bool identity = SendsIdentity(entry);
        uint flags = (stat.Mode == _mode ? SameMode : 0)
            | (stat.Uid == _uid ? SameUid : 0)
            | (stat.Gid == _gid ? SameGid : 0)
            | (stat.MtimeSeconds == _seconds ? SameSeconds : 0)
            | (stat.MtimeNanoseconds == _nanoseconds ? SameNanoseconds : 0);
        if (identity)
        {
            flags |= HasIdentity | (stat.Device == _device ? SameDevice : 0) | (stat.Nlink == _nlink ? SameLinkCount : 0);
        }

        Span<byte> name = stackalloc byte[Encoding.UTF8.GetMaxByteCount(entry.Name.Length)];
        int nameLength = NameCodec.GetBytes(entry.Name, name);
        name = name[..nameLength];
        int prefix = name.CommonPrefixLength(_name.AsSpan(0, _nameLength));
        writer.UInt(flags).UInt((uint)prefix).UInt((uint)(nameLength - prefix)).Bytes(name[prefix..]);
        name.CopyTo(_name);
        _nameLength = nameLength;

        if ((flags & SameMode) == 0)
        {
            writer.UInt((uint)stat.Mode);
            _mode = stat.Mode;
        }

        if (entry.Kind == EntryKind.File)
        {
            writer.UInt((ulong)stat.Size);
        }

        if ((flags & SameSeconds) == 0)
        {
            writer.Int(unchecked(stat.MtimeSeconds - _seconds));
            _seconds = stat.MtimeSeconds;
        }

        if ((flags & SameNanoseconds) == 0)
        {
            writer.UInt32Fixed(stat.MtimeNanoseconds);
            _nanoseconds = stat.MtimeNanoseconds;
        }

        if ((flags & SameUid) == 0)
        {
            writer.UInt(stat.Uid);
            _uid = stat.Uid;
        }

        if ((flags & SameGid) == 0)
        {
            writer.UInt(stat.Gid);
            _gid = stat.Gid;
        }

        if (identity)
        {
            if ((flags & SameDevice) == 0)
            {
                writer.UInt(stat.Device);
                _device = stat.Device;
            }

            writer.Int(unchecked((long)(stat.Inode - _inode)));
            _inode = stat.Inode;
            if ((flags & SameLinkCount) == 0)
            {
                writer.UInt(stat.Nlink);
                _nlink = stat.Nlink;
            }
        }

        entry.WriteDeviceNumber(writer);
        if (entry.Kind == EntryKind.SymbolicLink)
        {
            writer.String(entry.LinkTarget ?? string.Empty);
        }

        if (entry.Kind == EntryKind.File && entry.Checksum is { } checksum)
        {
            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteUInt128LittleEndian(bytes, checksum);
            writer.Bytes(bytes);
        }

        entry.WriteExtendedAttributes(writer);
    }

    /// <summary>Reads and checks one entry as <see cref="ListingEntry.Read"/> does: a safe single name, a bounded mode,
    /// nanoseconds and sizes, a valid link target.</summary>
    public ListingEntry Read(ref WireReader reader, bool checksums, Metadata.XattrScope xattrs = Metadata.XattrScope.None, bool devices = false)
    {
        uint flags = (uint)reader.UInt(AllFlags);
        if ((flags & HasIdentity) == 0 && (flags & (SameDevice | SameLinkCount)) != 0)
        {
            throw ProtocolFault.Violation("identity flags on a listing entry without an identity");
        }

        int prefix = reader.Int32(_nameLength);
        int suffix = reader.Int32(ProtocolLimits.MaxNameBytes - prefix);
        reader.Bytes(suffix).CopyTo(_name.AsSpan(prefix));
        _nameLength = prefix + suffix;
        string name = NameCodec.Decode(_name.AsSpan(0, _nameLength));

        PeerNames.CheckName(name);
        if ((flags & SameMode) == 0)
        {
            _mode = (int)reader.UInt(0xFFFF);
        }

        bool isFile = (_mode & Posix.SIfmt) == Posix.SIfreg;
        long size = isFile ? reader.Int64() : 0;
        if ((flags & SameSeconds) == 0)
        {
            _seconds = unchecked(_seconds + reader.Signed());
        }

        if ((flags & SameNanoseconds) == 0)
        {
            uint nanoseconds = reader.UInt32Fixed();
            _nanoseconds = nanoseconds <= 999_999_999 ? nanoseconds
                : throw ProtocolFault.Violation($"a value of {nanoseconds} where at most 999999999 is allowed");
        }

        if ((flags & SameUid) == 0)
        {
            _uid = (uint)reader.UInt(uint.MaxValue);
        }

        if ((flags & SameGid) == 0)
        {
            _gid = (uint)reader.UInt(uint.MaxValue);
        }

        ulong device;
        ulong inode;
        uint nlink;
        if ((flags & HasIdentity) != 0)
        {
            if ((flags & SameDevice) == 0)
            {
                _device = reader.UInt();
            }

            _inode = unchecked(_inode + (ulong)reader.Signed());
            if ((flags & SameLinkCount) == 0)
            {
                _nlink = (uint)reader.UInt(uint.MaxValue);
            }

            (device, inode, nlink) = (_device, _inode, _nlink);
        }
        else
        {
            // One link only: nothing else shares the inode, so a number no other item has stands for it.
            (device, inode, nlink) = (NoDevice, (ulong)Interlocked.Increment(ref s_nextIdentity), 1);
        }

        var stat = new StatInfo(_mode, nlink, _uid, _gid, inode, size, _seconds, _nanoseconds, device);
        stat = stat with { Rdev = ListingEntry.ReadDeviceNumber(ref reader, stat, devices) };
        EntryKind kind = FileEntry.KindOf(stat);
        string? target = kind == EntryKind.SymbolicLink ? PeerNames.CheckLinkTarget(reader.String(ProtocolLimits.MaxLinkTargetBytes)) : null;
        UInt128? checksum = null;
        if (checksums && kind == EntryKind.File)
        {
            checksum = BinaryPrimitives.ReadUInt128LittleEndian(reader.Bytes(16));
        }

        return new ListingEntry(name, stat, target) { Checksum = checksum, ListsDeviceNumbers = devices }.ReadExtendedAttributes(ref reader, xattrs);
    }
}
