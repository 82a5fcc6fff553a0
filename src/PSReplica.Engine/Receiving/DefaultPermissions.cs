using System.Buffers.Binary;
using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Receiving;

/// <summary>The most a new item may keep of its source's access bits without -Preserve Permissions, decided where it is
/// written, as rsync's receiver decides it: the directory it is made in has a default ACL, whose owner, mask (else owning
/// group) and other entries give the bits; or it has none, and the receiving process's umask takes its bits away. So a
/// push follows the server's umask and default ACLs, not the controller's.</summary>
/// <remarks>Read through the tree's descriptors (the directory is never reached through a link) and kept per directory
/// for the rest of the run, at most <see cref="KeptDirectories"/> at a time.</remarks>
internal sealed class DefaultPermissions
{
    private const int KeptDirectories = 1024;

    // The kernel's ACL xattr form: a u32 version (2), then 8-byte entries of u16 tag, u16 permissions, u32 id.
    private const ushort UserObject = 0x01;
    private const ushort GroupObject = 0x04;
    private const ushort Mask = 0x10;
    private const ushort Other = 0x20;

    private readonly Func<SafeTree> _tree;
    private readonly int _umaskPermissions;
    private readonly Dictionary<string, int> _byDirectory = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <param name="tree">The tree new items are made in (asked for when the first is).</param>
    public DefaultPermissions(Func<SafeTree> tree)
        : this(tree, Posix.Umask)
    {
    }

    internal DefaultPermissions(Func<SafeTree> tree, int umask)
    {
        _tree = tree;
        _umaskPermissions = 0x1FF & ~umask;
    }

    /// <summary><paramref name="attributes"/> with a mode that <see cref="AttributeFields.DefaultPermissions"/> asks to be
    /// limited here limited by the permissions of <paramref name="relative"/>'s directory (the flag then cleared);
    /// anything else as it is.</summary>
    public AttributeSet Resolve(string relative, AttributeSet attributes)
    {
        if (!attributes.Has(AttributeFields.DefaultPermissions))
        {
            return attributes;
        }

        AttributeFields fields = attributes.Fields & ~AttributeFields.DefaultPermissions;
        return attributes.Has(AttributeFields.Mode)
            ? attributes with { Fields = fields, Mode = attributes.Mode & For(relative) }
            : attributes with { Fields = fields };
    }

    /// <summary>The access bits a new item at <paramref name="relative"/> may have: its directory's default ACL's, or the
    /// umask's. The tree's root itself ("" or ".") is made as mkdir -p makes it: the umask's.</summary>
    public int For(string relative)
    {
        if (relative.Length == 0 || relative == ".")
        {
            return _umaskPermissions;
        }

        int slash = relative.LastIndexOf('/');
        string directory = slash < 0 ? string.Empty : relative[..slash];
        lock (_gate)
        {
            if (_byDirectory.TryGetValue(directory, out int known))
            {
                return known;
            }
        }

        int permissions = Read(relative);
        lock (_gate)
        {
            if (_byDirectory.Count >= KeptDirectories)
            {
                _byDirectory.Clear();
            }

            _byDirectory[directory] = permissions;
        }

        return permissions;
    }

    private int Read(string relative)
    {
        byte[] acl = new byte[1024];
        int length;
        try
        {
            using ParentDirectory parent = _tree().OpenParent(relative);
            Posix.XattrTarget directory = Posix.XattrTarget.PathHandle(parent.Handle);
            length = directory.Get(Metadata.XattrScopes.DefaultAcl, acl);
            if (length == -Posix.ERANGE)
            {
                acl = new byte[Posix.XattrSizeMax];
                length = directory.Get(Metadata.XattrScopes.DefaultAcl, acl);
            }
        }
        catch (SyncException)
        {
            // The directory cannot be reached: the write that follows fails on it and says so.
            return _umaskPermissions;
        }

        return length > 0 ? FromDefaultAcl(acl.AsSpan(0, length), _umaskPermissions) : _umaskPermissions;
    }

    /// <summary>The access bits a default ACL (the kernel's xattr form) gives new items: its owner, mask (else owning
    /// group) and other entries over <paramref name="otherwise"/>'s bits for any it lacks; <paramref name="otherwise"/>
    /// when it is not well formed.</summary>
    internal static int FromDefaultAcl(ReadOnlySpan<byte> acl, int otherwise)
    {
        if (acl.Length < 4 || (acl.Length - 4) % 8 != 0 || BinaryPrimitives.ReadUInt32LittleEndian(acl) != 2)
        {
            return otherwise;
        }

        int? user = null, group = null, mask = null, other = null;
        for (int offset = 4; offset < acl.Length; offset += 8)
        {
            ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(acl[offset..]);
            int permissions = BinaryPrimitives.ReadUInt16LittleEndian(acl[(offset + 2)..]) & 7;
            switch (tag)
            {
                case UserObject: user = permissions; break;
                case GroupObject: group = permissions; break;
                case Mask: mask = permissions; break;
                case Other: other = permissions; break;
            }
        }

        int result = otherwise;
        if (user is int u)
        {
            result = (result & ~0x1C0) | (u << 6);
        }

        if ((mask ?? group) is int g)
        {
            result = (result & ~0x38) | (g << 3);
        }

        if (other is int o)
        {
            result = (result & ~0x7) | o;
        }

        return result;
    }
}
