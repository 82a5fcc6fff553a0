using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Execution;

/// <summary>Which attributes each kind of action gives its item, from -Preserve, the umask and what the item's file
/// system can hold (the plan's destination traits: owners and modes are not tried where it holds none, FAT, which the
/// plan said once as a warning instead of an error per item): decided once, here, and carried out by whichever
/// destination the run writes to (locally through descriptors, by an agent, over SFTP).</summary>
internal sealed class AttributePolicy
{
    /// <summary>0700: the owner must be able to write into a directory being filled.</summary>
    internal const int OwnerAccess = 0x1C0;

    /// <summary>0777: the access bits, what a new item keeps of its source's mode without -Preserve Permissions (less the
    /// umask): as rsync without -p, never the set-user-ID, set-group-ID or sticky bit.</summary>
    internal const int AccessBits = 0x1FF;

    private readonly PreserveOptions _preserve;
    private readonly bool _omitDirectoryTimes;
    private readonly int _umask;
    private readonly Metadata.XattrScope _xattrScope;
    private readonly SyncPlan? _plan;
    private readonly NewModes _newModes;
    private readonly Receiving.DefaultPermissions? _defaults;

    /// <param name="umask">The umask a new item's mode loses without -Preserve Permissions when
    /// <paramref name="newModes"/> is <see cref="NewModes.Umask"/>.</param>
    public AttributePolicy(SyncOptions options, int umask, SyncPlan? plan = null, NewModes newModes = NewModes.Umask)
    {
        _preserve = options.Preserve;
        _omitDirectoryTimes = options.OmitDirectoryTimes;
        _umask = umask;
        _xattrScope = options.XattrScope;
        _plan = plan;
        _newModes = newModes;
    }

    private AttributePolicy(AttributePolicy policy, Receiving.DefaultPermissions defaults)
    {
        _preserve = policy._preserve;
        _omitDirectoryTimes = policy._omitDirectoryTimes;
        _umask = policy._umask;
        _xattrScope = policy._xattrScope;
        _plan = policy._plan;
        _newModes = NewModes.ReadHere;
        _defaults = defaults;
    }

    /// <summary>The policy of <paramref name="plan"/>'s run: its options, the process umask, its destination traits.</summary>
    public AttributePolicy(SyncPlan plan, NewModes newModes = NewModes.Umask)
        : this(plan.Options, Posix.Umask, plan, newModes)
    {
    }

    /// <summary>How a new item's mode is limited without -Preserve Permissions (rsync's receiver: by its directory's
    /// default ACL, else its umask).</summary>
    internal enum NewModes
    {
        /// <summary>By this process's umask (SFTP, and agents without <see cref="Handshake.DefaultPermissions"/>).</summary>
        Umask,

        /// <summary>By the receiver, which is sent the source's access bits with
        /// <see cref="AttributeFields.DefaultPermissions"/> (an agent).</summary>
        ByReceiver,

        /// <summary>By the destination's directories, read here (a local destination: <see cref="WithDefaults"/>).</summary>
        ReadHere,
    }

    /// <summary>This policy with new modes limited by <paramref name="defaults"/>, the destination tree's directories
    /// (a local destination: this process is the receiver).</summary>
    public AttributePolicy WithDefaults(Receiving.DefaultPermissions defaults) => new(this, defaults);

    private bool Preserves(PreserveOptions flag) => (_preserve & flag) != 0;

    /// <summary>A new item's mode without -Preserve Permissions (see <see cref="AccessBits"/>), for <paramref name="relative"/>
    /// in the destination.</summary>
    private int NewMode(FileEntry source, string relative) => _newModes switch
    {
        NewModes.ByReceiver => source.Permissions & AccessBits,
        NewModes.ReadHere => source.Permissions & AccessBits & _defaults!.For(relative),
        _ => source.Permissions & AccessBits & ~_umask,
    };

    /// <summary>A set with a new item's mode (<see cref="NewMode"/>): the receiver is told to limit it where it decides.</summary>
    private AttributeSet WithNewMode(AttributeSet set) =>
        _newModes == NewModes.ByReceiver && set.Has(AttributeFields.Mode) ? set with { Fields = set.Fields | AttributeFields.DefaultPermissions } : set;

    /// <summary>A written file: the source's mode with -Preserve Permissions, else the replaced file's, else the source's
    /// access bits less the umask (as cp and rsync without -p do); the owner and time that -Preserve asks for.</summary>
    public AttributeSet ForFile(PlannedAction action)
    {
        FileEntry source = action.Source!;
        bool newMode = !Preserves(PreserveOptions.Permissions) && action.Existing is not { Kind: EntryKind.File };
        int permissions = Preserves(PreserveOptions.Permissions) ? source.Permissions
            : action.Existing is { Kind: EntryKind.File } existing ? existing.Permissions
            : NewMode(source, action.Item.RelativePath);
        AttributeSet set = Of(action.Item.RelativePath, source, permissions, owner: true, time: Preserves(PreserveOptions.Times));
        return WithFileAttributes(newMode ? WithNewMode(set) : set, source, Preserves(PreserveOptions.Attributes));
    }

    /// <summary>A symbolic link (<paramref name="relative"/> in the destination): its owner and its own time (never its
    /// target's).</summary>
    public AttributeSet ForLink(FileEntry link, string relative) => Of(relative, link, mode: null, owner: true, time: Preserves(PreserveOptions.Times));

    /// <summary>A device, FIFO or socket (-Preserve Devices, Specials): its mode as a file's is decided (without a replaced
    /// item's to keep: a node is made anew), its owner and its time. Extended attributes stay off: Linux keeps no user.*
    /// attributes on such items.</summary>
    public AttributeSet ForNode(PlannedAction action)
    {
        FileEntry source = action.Source!;
        bool newMode = !Preserves(PreserveOptions.Permissions);
        int permissions = newMode ? NewMode(source, action.Item.RelativePath) : source.Permissions;
        AttributeSet set = Of(action.Item.RelativePath, source, permissions, owner: true, time: Preserves(PreserveOptions.Times));
        set = newMode ? WithNewMode(set) : set;
        return set with { Fields = set.Fields & ~AttributeFields.ExtendedAttributes, ExtendedAttributes = null };
    }

    /// <summary>What a Metadata action sets. A directory gets its owner, and its mode with write access for the owner:
    /// times and exact permissions follow its contents (<see cref="ForDirectory"/>).</summary>
    public AttributeSet ForMetadata(PlannedAction action)
    {
        FileEntry source = action.Source!;
        bool fileAttributes = (action.Changes & AttributeChanges.FileAttributes) != 0;
        bool permissionsChanged = (action.Changes & AttributeChanges.Permissions) != 0;
        // An ACL's mask is the mode's group bits: a changed ACL takes the source's mode along.
        permissionsChanged |= (action.Changes & AttributeChanges.Acls) != 0;
        if (source.IsDirectory)
        {
            return WithFileAttributes(Of(action.Item.RelativePath, source, permissionsChanged ? source.Permissions | OwnerAccess : null, owner: true, time: false),
                source, fileAttributes);
        }

        bool ownerChanged = (action.Changes & (AttributeChanges.Owner | AttributeChanges.Group)) != 0;
        // chown clears set-user-ID and set-group-ID bits: the mode is applied after it, and again whenever it ran.
        bool mode = (source.Kind == EntryKind.File || source.Kind.IsNode()) && (permissionsChanged || (ownerChanged && Preserves(PreserveOptions.Permissions)));
        bool time = (action.Changes & AttributeChanges.Times) != 0;
        return WithFileAttributes(Of(action.Item.RelativePath, source, mode ? source.Permissions : null, owner: ownerChanged, time), source, fileAttributes);
    }

    /// <summary>What a directory (<paramref name="relative"/> in the destination) gets once its contents are written: its
    /// exact permissions (a new one's less the umask without -Preserve Permissions), the owner of a new one, and its time.</summary>
    public AttributeSet ForDirectory(FileEntry source, bool created, string relative)
    {
        bool newMode = !Preserves(PreserveOptions.Permissions) && created;
        int? mode = Preserves(PreserveOptions.Permissions) ? source.Permissions : created ? NewMode(source, relative) : null;
        // An existing directory's differing attributes are its Metadata action's.
        AttributeSet set = Of(relative, source, mode, owner: created, time: Preserves(PreserveOptions.Times) && !_omitDirectoryTimes);
        return WithFileAttributes(newMode ? WithNewMode(set) : set, source, created && Preserves(PreserveOptions.Attributes));
    }

    /// <summary>Adds the source's Windows file attributes (-Preserve Attributes) when <paramref name="wanted"/>: set
    /// last, after the data and the time, so that a ReadOnly item is complete before it is read-only.</summary>
    private static AttributeSet WithFileAttributes(AttributeSet set, FileEntry source, bool wanted) =>
        wanted && source.Kind != EntryKind.SymbolicLink
            ? set with { Fields = set.Fields | AttributeFields.FileAttributes, FileAttributes = source.Attributes }
            : set;

    /// <summary>The mode when given, the owner and group that -Preserve asks for, the time; less what the file system
    /// <paramref name="relative"/> is on cannot hold.</summary>
    private AttributeSet Of(string relative, FileEntry source, int? mode, bool owner, bool time)
    {
        AttributeFields fields = AttributeFields.None;
        if (mode is not null)
        {
            fields |= AttributeFields.Mode;
        }

        if (owner && Preserves(PreserveOptions.Owner))
        {
            fields |= AttributeFields.Uid;
        }

        if (owner && Preserves(PreserveOptions.Group))
        {
            fields |= AttributeFields.Gid;
        }

        if (time)
        {
            fields |= AttributeFields.Time;
        }

        if (_plan is not null)
        {
            fields &= ~_plan.TraitsOf(relative == "." ? string.Empty : relative).Unheld;
        }

        var set = new AttributeSet(fields, mode ?? 0, source.Uid, source.Gid, source.MtimeSeconds, source.MtimeNanoseconds);
        if (_xattrScope != Metadata.XattrScope.None && source.ExtendedAttributes is { } xattrs && source.Kind != EntryKind.SymbolicLink)
        {
            // Always the whole set: a new item may have inherited a default ACL from its directory that the source's lacks.
            set = set with { Fields = fields | AttributeFields.ExtendedAttributes, ExtendedAttributes = xattrs, XattrScope = _xattrScope };
        }

        return set;
    }
}
