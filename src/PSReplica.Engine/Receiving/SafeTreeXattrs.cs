using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Metadata;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Receiving;

/// <summary>Reads an item's extended attributes through the tree's directory handles: the item is opened O_PATH without
/// following a link in its parent's descriptor, and read through that descriptor's /proc/self/fd path, so no name on
/// the way and not the item itself is resolved through a link.</summary>
internal static class SafeTreeXattrs
{
    /// <summary>The attributes of <paramref name="scope"/> of a file or directory ("" is the root); empty for anything
    /// else (links carry none); null when they cannot be read.</summary>
    public static ExtendedAttributeSet? ExtendedAttributes(this SafeTree tree, string relative, XattrScope scope)
    {
        try
        {
            using ParentDirectory parent = relative.Length == 0 ? tree.OpenDirectory(string.Empty) : tree.OpenParent(relative);
            using SafeFileHandle? item = parent.Name.Length == 0 ? null : Posix.OpenAt(parent.Handle, parent.Name, Posix.OPath | Posix.ONoFollow, 0, out _);
            if (parent.Name.Length != 0 && item is null)
            {
                return null;
            }

            SafeFileHandle target = item ?? parent.Handle;
            if (Posix.StatAt(target, string.Empty, out StatInfo stat) != 0)
            {
                return null;
            }

            return stat.FileType is Posix.SIfreg or Posix.SIfdir
                ? ExtendedAttributeSet.Read(Posix.XattrTarget.PathHandle(target), scope, out _)
                : ExtendedAttributeSet.Empty;
        }
        catch (SyncException)
        {
            return null;
        }
    }
}
