using System.Buffers.Binary;

namespace PSReplica.Engine.Metadata;

/// <summary>The mode as an access ACL means it. With a mask entry, the group bits of st_mode show the mask, and the
/// owning group's own permissions are the ACL's ACL_GROUP_OBJ entry; comparing modes with those in place of the mask
/// leaves a mask change to the ACL comparison. The ACL is the kernel's xattr form: a little-endian u32 version (2), then
/// 8-byte entries of u16 tag, u16 permissions, u32 id.</summary>
internal static class AclModes
{
    private const ushort GroupObject = 0x04;
    private const ushort Mask = 0x10;

    public static int Logical(int mode, ExtendedAttributeSet attributes)
    {
        foreach ((string name, byte[] value) in attributes.Entries)
        {
            if (name == XattrScopes.AccessAcl && GroupObjectPermissions(value) is { } group)
            {
                return (mode & ~0x38) | (group << 3);
            }
        }

        return mode;
    }

    /// <summary>The owning group's permissions when the ACL has a mask; null otherwise or when it is not well formed.</summary>
    private static int? GroupObjectPermissions(ReadOnlySpan<byte> acl)
    {
        if (acl.Length < 4 || (acl.Length - 4) % 8 != 0 || BinaryPrimitives.ReadUInt32LittleEndian(acl) != 2)
        {
            return null;
        }

        int? group = null;
        bool mask = false;
        for (int offset = 4; offset < acl.Length; offset += 8)
        {
            ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(acl[offset..]);
            int permissions = BinaryPrimitives.ReadUInt16LittleEndian(acl[(offset + 2)..]) & 7;
            if (tag == GroupObject)
            {
                group = permissions;
            }
            else if (tag == Mask)
            {
                mask = true;
            }
        }

        return mask ? group : null;
    }
}
