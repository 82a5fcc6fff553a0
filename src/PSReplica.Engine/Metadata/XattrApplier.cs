using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;

namespace PSReplica.Engine.Metadata;

/// <summary>Gives an item the extended attributes and ACLs an <see cref="AttributeSet"/> carries, through a descriptor
/// (never a name that could have become a link). A file system that holds none (EOPNOTSUPP: FAT, an old tmpfs for
/// user.*) keeps the data without them: the run warns once up front (<see cref="XattrSupport"/>) instead of failing
/// every item.</summary>
internal static class XattrApplier
{
    /// <exception cref="SyncException">MetadataFailed with the errno's kind.</exception>
    public static void Apply(Posix.XattrTarget target, AttributeSet attributes, string relative)
    {
        if (!attributes.Has(AttributeFields.ExtendedAttributes))
        {
            return;
        }

        int errno = (attributes.ExtendedAttributes ?? ExtendedAttributeSet.Empty).ApplyTo(target, attributes.XattrScope);
        if (errno is not (0 or Posix.EOPNOTSUPP))
        {
            throw SafeTree.Failure(errno, ErrorIds.MetadataFailed, "Cannot set the extended attributes of", relative);
        }
    }
}
