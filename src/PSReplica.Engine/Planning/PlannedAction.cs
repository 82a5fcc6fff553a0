using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Planning;

/// <summary>One step of a plan: the public item plus what the executor needs to carry it out.</summary>
internal sealed class PlannedAction
{
    public PlannedAction(ActionKind kind, SyncItem item, FileEntry? source, FileEntry? existing)
    {
        Kind = kind;
        Item = item;
        Source = source;
        Existing = existing;
    }

    public ActionKind Kind { get; }

    public SyncItem Item { get; }

    /// <summary>The source item, for everything but deletions.</summary>
    public FileEntry? Source { get; }

    /// <summary>What is in the destination now, if anything.</summary>
    public FileEntry? Existing { get; }

    public AttributeChanges Changes { get; init; }

    /// <summary>A file in a basis directory (-LinkDest, -CompareDest, -CopyDest) with the same name: the delta basis of a
    /// new file, the target of a hard link, or what is copied locally instead of the source.</summary>
    public FileEntry? Basis { get; init; }

    /// <summary>Which basis directory <see cref="Basis"/> is in (its position in the option; the agent's tree number).</summary>
    public int BasisIndex { get; init; }

    /// <summary>-Preserve HardLinks: the destination path of the first name of this file's hard-link group, which this
    /// name is linked to (after that one's copy is complete).</summary>
    public string? LinkTo { get; init; }

    /// <summary>The basis holds the source's content: copy it locally instead of reading the source.</summary>
    public bool CopyFromBasis { get; init; }

    /// <summary>A deletion making room for the source's item of another kind: the path of the item replaced (this
    /// deletion's own, or a directory above it whose contents go with it); null for any other action. As with rsync's
    /// --max-delete, the replaced item does not count as a deletion, but what a replaced directory held does.</summary>
    public string? Replaces { get; init; }

    public string DestinationPath => Item.DestinationPath;
}
