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
        if (Enabled && source is { Kind: EntryKind.File or EntryKind.Directory, ExtendedAttributes: null })
        {
            source.ExtendedAttributes = sourceLister.ExtendedAttributes(source, scope);
        }
    }

    /// <summary>Acls and ExtendedAttributes as they differ; none when either side's cannot be read.</summary>
    public AttributeChanges Compare(FileEntry source, FileEntry existing)
    {
        if (!Enabled || source.Kind is not (EntryKind.File or EntryKind.Directory) || existing.Kind != source.Kind)
        {
            return AttributeChanges.None;
        }

        Load(source);
        ExtendedAttributeSet? theirs = existing.ExtendedAttributes ??= destinationLister.ExtendedAttributes(existing, scope);
        return source.ExtendedAttributes is { } ours && theirs is not null ? ours.Compare(theirs) : AttributeChanges.None;
    }
}
