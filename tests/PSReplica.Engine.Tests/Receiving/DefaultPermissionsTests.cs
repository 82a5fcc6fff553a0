using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;

namespace PSReplica.Engine.Tests.Receiving;

/// <summary>What a receiver lets a new item keep of its source's access bits without -Preserve Permissions (rsync's
/// dest_mode): the default ACL of the directory it is made in, else the umask; read through the tree's descriptors, so
/// a directory swapped for a link leads to no other directory's ACL. End to end against rsync: DefaultPermissions.Tests.ps1.</summary>
public sealed class DefaultPermissionsTests
{
    private const int Umask022 = 0x12;

    // The kernel's ACL xattr form: version 2, then entries of u16 tag, u16 permissions, u32 id.
    private static byte[] Acl(params (ushort Tag, ushort Permissions)[] entries)
    {
        var bytes = new byte[4 + (8 * entries.Length)];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 4), 2u);
        for (int i = 0; i < entries.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(4 + (8 * i), 2), entries[i].Tag);
            BitConverter.TryWriteBytes(bytes.AsSpan(6 + (8 * i), 2), entries[i].Permissions);
            BitConverter.TryWriteBytes(bytes.AsSpan(8 + (8 * i), 4), entries[i].Tag is 0x02 or 0x08 ? 65534u : uint.MaxValue);
        }

        return bytes;
    }

    [Fact]
    public void A_default_acl_gives_its_owner_mask_and_other_bits()
    {
        // u::rwx, u:nobody:rwx, g::r-x, m::rwx, o::---
        byte[] acl = Acl((0x01, 7), (0x02, 7), (0x04, 5), (0x10, 7), (0x20, 0));
        Assert.Equal(Convert.ToInt32("770", 8), DefaultPermissions.FromDefaultAcl(acl, Convert.ToInt32("755", 8)));
    }

    [Fact]
    public void Without_a_mask_the_owning_group_gives_the_group_bits()
    {
        byte[] acl = Acl((0x01, 6), (0x04, 4), (0x20, 4));
        Assert.Equal(Convert.ToInt32("644", 8), DefaultPermissions.FromDefaultAcl(acl, Convert.ToInt32("700", 8)));
    }

    [Fact]
    public void A_malformed_acl_leaves_the_umask_bits()
    {
        int otherwise = Convert.ToInt32("755", 8);
        Assert.Equal(otherwise, DefaultPermissions.FromDefaultAcl([1, 0, 0, 0, 1, 0, 7, 0, 0, 0, 0, 0], otherwise));
        Assert.Equal(otherwise, DefaultPermissions.FromDefaultAcl([2, 0, 0, 0, 1], otherwise));
        Assert.Equal(otherwise, DefaultPermissions.FromDefaultAcl([], otherwise));
    }

    [Fact]
    public void Each_directory_gives_its_own_default_acl_and_the_root_the_umask()
    {
        using var tree = new TestTree();
        tree.Dst("acl/x", "x");
        tree.Dst("plain/y", "y");
        TestTree.Run("setfacl", "-d", "-m", "u::rwx,g::r-x,o::---", Path.Join(tree.Destination, "acl"));
        using var safe = new SafeTree(tree.Destination);
        var defaults = new DefaultPermissions(() => safe, Umask022);
        Assert.Equal(Convert.ToInt32("750", 8), defaults.For("acl/new"));
        Assert.Equal(Convert.ToInt32("755", 8), defaults.For("plain/new"));
        Assert.Equal(Convert.ToInt32("755", 8), defaults.For("top"));
        Assert.Equal(Convert.ToInt32("755", 8), defaults.For(string.Empty));

        AttributeSet resolved = defaults.Resolve("acl/new", new AttributeSet(AttributeFields.Mode | AttributeFields.DefaultPermissions | AttributeFields.Time, 0x1FF, 0, 0, 5, 0));
        Assert.Equal(AttributeFields.Mode | AttributeFields.Time, resolved.Fields);
        Assert.Equal(Convert.ToInt32("750", 8), resolved.Mode);
        // Without the flag the mode is exact (-Preserve Permissions, or an existing file's).
        Assert.Equal(0x1FF, defaults.Resolve("acl/new", new AttributeSet(AttributeFields.Mode, 0x1FF, 0, 0, 0, 0)).Mode);
    }

    [Fact]
    public void A_directory_swapped_for_a_link_to_one_with_a_default_acl_lends_it_nothing()
    {
        using var tree = new TestTree();
        tree.Dst("d/x", "x");
        string outside = Path.Join(tree.Root, "outside");
        Directory.CreateDirectory(outside);
        TestTree.Run("setfacl", "-d", "-m", "u::rwx,g::rwx,o::rwx", outside);
        Directory.Delete(Path.Join(tree.Destination, "d"), recursive: true);
        File.CreateSymbolicLink(Path.Join(tree.Destination, "d"), outside);
        using var safe = new SafeTree(tree.Destination);
        // The umask's bits, not the linked directory's 777: the walk does not follow the link.
        Assert.Equal(Convert.ToInt32("755", 8), new DefaultPermissions(() => safe, Umask022).For("d/new"));
    }
}
