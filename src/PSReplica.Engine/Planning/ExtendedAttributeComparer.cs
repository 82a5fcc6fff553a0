using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Metadata;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Planning;

/// <summary>The planner's part of -Preserve Acls and ExtendedAttributes: reads an entry's attributes from its side's
/// lister only when the run asks for them (so a run without them reads none), and tells which differ. Links carry none:
/// Linux refuses user.* attributes on links, and PSReplica does not copy the trusted.* and security.* ones root may
/// give a link (rsync -X as root does).</summary>
internal sealed class ExtendedAttributeComparer(XattrScope scope, ITreeLister sourceLister, ITreeLister destinationLister)
{
    public bool Enabled => scope != XattrScope.None;

    /// <summary>Reads a source entry's attributes, which the action's attributes will carry.</summary>
    public void Load(FileEntry? source)
    {
        if (Enabled && source is { Kind: EntryKind.File or EntryKind.Directory })
        {
            source.ExtendedAttributes = (source.ExtendedAttributes ?? sourceLister.ExtendedAttributes(source, scope))?.Within(scope);
        }
    }

    /// <summary><paramref name="changes"/> (the other attributes' differences) with Acls and ExtendedAttributes as they
    /// differ; nothing added when either side's cannot be read. With -Preserve Acls, a mode that differs only in group
    /// bits that are an ACL's mask is the ACL's difference, not the permissions' (as rsync -A itemizes it): each side's
    /// mode is compared with its ACL's owning-group entry in place of the mask.</summary>
    public AttributeChanges Compare(FileEntry source, FileEntry existing, AttributeChanges changes)
    {
        if (!Enabled || source.Kind is not (EntryKind.File or EntryKind.Directory) || existing.Kind != source.Kind)
        {
            return changes;
        }

        Load(source);
        ExtendedAttributeSet? theirs = existing.ExtendedAttributes = (existing.ExtendedAttributes ?? destinationLister.ExtendedAttributes(existing, scope))?.Within(scope);
        if (source.ExtendedAttributes is not { } ours || theirs is null)
        {
            return changes;
        }

        changes |= ours.Compare(theirs);
        if ((changes & AttributeChanges.Permissions) != 0 && (scope & XattrScope.Acls) != 0
            && AclModes.Logical(source.Permissions, ours) == AclModes.Logical(existing.Permissions, theirs))
        {
            changes &= ~AttributeChanges.Permissions;
        }

        return changes;
    }
}
