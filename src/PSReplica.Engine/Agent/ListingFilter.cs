using PSReplica.Engine.Filtering;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Agent;

/// <summary>The agent's part of a version-2 listing: it evaluates the controller's filter with the same code and the
/// same per-directory files the planner will use, and leaves out only what the planner would skip. On the sender, an
/// entry the sender's rules exclude is not listed (nor, for a directory, anything below it). On the receiver, a
/// directory is left out only when the planner can never look inside it: the sender's rules exclude it (judged here
/// only when they read no per-directory file and match no absolute path, as the source's own files and root are not
/// here) and, with -Delete, the receiver's rules protect it whether or not perishable rules count. Such a directory is
/// listed, but not walked into (<see cref="Walks"/>): the planner must see that it is there (a directory holding it is
/// kept, not deleted, as rsync keeps it: "cannot delete non-empty directory"), never what it holds. The per-directory
/// files the walk reads (through <see cref="SafeTree"/>, never through a link) are sent along for the planner's own
/// evaluation. Checksums and followed links (-CopyLinks) are added here too.</summary>
internal sealed class ListingFilter
{
    private readonly SafeTree _tree;
    private readonly RemoteSide _role;
    private readonly ListingOptions _options;
    private readonly FilterContext? _context;
    private readonly FilterContext? _sender;
    private readonly string _root;
    private readonly string _prefix;
    private readonly List<(string Path, string? Content)> _read = [];

    // -OneFileSystem on a sender: the root's device; a directory on another is listed but not walked into.
    private ulong? _rootDevice;

    // Directories of the destination listed but not to be walked into (see the type), by path relative to the root; each
    // is forgotten once the walk has asked about it.
    private readonly HashSet<string> _unwalked = new(StringComparer.Ordinal);

    private ListingFilter(SafeTree tree, RemoteSide role, ListingOptions options, SyncFilter? filter)
    {
        _tree = tree;
        _role = role;
        _options = options;
        _root = tree.RootPath.Length > 1 ? tree.RootPath.TrimEnd('/') : tree.RootPath;
        _prefix = _root.EndsWith('/') ? _root : _root + "/";
        if (filter is null)
        {
            return;
        }

        bool deleteExcluded = options.Has(ListingFeatures.DeleteExcluded);
        if (role == RemoteSide.Source)
        {
            _context = filter.CreateContext(FilterSide.Sender, _root, deleteExcluded, ReadFile);
            return;
        }

        // The planner reads the receiver's per-directory files only when it deletes.
        if (options.Has(ListingFeatures.Delete))
        {
            _context = filter.CreateContext(FilterSide.Receiver, _root, deleteExcluded, ReadFile);
        }

        if (!filter.HasDirMerge && !Array.Exists([.. filter.Rules], r => (r.Modifiers & FilterModifiers.AbsolutePath) != 0))
        {
            _sender = filter.CreateContext(FilterSide.Sender, _root, deleteExcluded, static _ => null);
        }
    }

    /// <summary>The walk's helper for <paramref name="options"/>, or null when they ask for nothing.</summary>
    /// <exception cref="SyncException">ProtocolViolation: rules that do not parse, or that would read a file by name
    /// (a merge rule: the controller sends the rules of its merge files, never their names).</exception>
    /// <param name="rootDevice">The root's device as the controller was told it (with -OneFileSystem); null: as it is now.</param>
    public static ListingFilter? Create(SafeTree tree, RemoteSide role, ListingOptions? options, ulong? rootDevice = null)
    {
        if (options is null || options.Features == ListingFeatures.None)
        {
            return null;
        }

        if (options.Has(ListingFeatures.CopyLinks) && role == RemoteSide.Source)
        {
            tree.FollowLinks = true;
        }

        var filter = new ListingFilter(tree, role, options, options.Has(ListingFeatures.Filter) ? ParseRules(options.Filter) : null);
        if (options.Has(ListingFeatures.OneFileSystem) && role == RemoteSide.Source)
        {
            // The root as the controller was told it in Opened: the planner compares each directory with that device.
            filter._rootDevice = rootDevice ?? tree.DescribeRoot(ErrorIds.SourceNotFound)?.Stat.Device;
        }

        return filter;
    }

    /// <summary>The listing carries extended attributes (<see cref="ListingFeatures.ExtendedAttributes"/>).</summary>
    public bool ListsExtendedAttributes => _options.Has(ListingFeatures.ExtendedAttributes);

    /// <summary>The attributes of the listing's scope of a directory of the tree; null when unreadable.</summary>
    public Metadata.ExtendedAttributeSet? ExtendedAttributes(string relative) => _tree.ExtendedAttributes(relative, _options.XattrScope);

    /// <summary>Whether the walk goes into <paramref name="directory"/>, a listed directory: not with -OneFileSystem when
    /// it is on another device than the root (a mount point, or a link followed to one), which the planner creates empty
    /// and never lists, as rsync -x does.</summary>
    public bool Enters(ListingEntry directory) => _rootDevice is not { } root || directory.Stat.Device == root;

    /// <summary>Whether the walk lists the directory at <paramref name="relative"/>, one it <see cref="Enters"/>: not a
    /// destination directory the planner never looks inside (see the type), whose listing is an error record instead (the
    /// controller expects every directory it was told of to be listed or failed; it never asks for this one, and if it
    /// did, the error would stop its deletions rather than let it take the directory for empty).</summary>
    public bool Walks(string relative) => !_unwalked.Remove(relative);

    /// <summary>Enters <paramref name="directory"/> (its entries are selected next) and returns the per-directory filter
    /// files read for it, by path relative to the root (null content: no such file).</summary>
    /// <exception cref="SyncException">FilterFileUnreadable, or InvalidFilterRule for a malformed file.</exception>
    public List<(string Path, string? Content)> Enter(string directory)
    {
        _read.Clear();
        string full = directory.Length == 0 ? _root : _prefix + directory;
        _context?.EnterDirectory(directory, full);
        _sender?.EnterDirectory(directory, full);
        return [.. _read];
    }

    public void Leave()
    {
        _context?.LeaveDirectory();
        _sender?.LeaveDirectory();
    }

    /// <summary>The entries of the entered directory that the planner will look at, links resolved and checksums added
    /// as asked.</summary>
    public List<ListingEntry> Select(string directory, List<ListingEntry> entries)
    {
        var selected = new List<ListingEntry>(entries.Count);
        foreach (ListingEntry listed in entries)
        {
            ListingEntry entry = listed;
            string relative = PeerNames.Join(directory, entry.Name);
            bool dangling = false;
            if (entry.Kind == EntryKind.SymbolicLink && _tree.FollowLinks)
            {
                // As rsync -L: the link stands for what it points to. A dangling one stays a link: the planner reports it.
                if (_tree.StatFollowing(relative) is { } target)
                {
                    entry = new ListingEntry(entry.Name, target, null);
                }
                else
                {
                    dangling = true;
                }
            }

            bool isDirectory = entry.Kind == EntryKind.Directory;
            if (_role == RemoteSide.Source && _context is not null && !dangling && !_context.IsIncluded(relative, isDirectory))
            {
                continue;
            }

            if (_role == RemoteSide.Destination && isDirectory && _sender is not null && !_sender.IsIncluded(relative, isDirectory)
                && (!_options.Has(ListingFeatures.Delete)
                    || (_context is not null && !_context.IsIncluded(relative, isDirectory) && !_context.IsIncluded(relative, isDirectory, ignorePerishable: true))))
            {
                _unwalked.Add(relative);
            }

            if (entry.Kind == EntryKind.File && _options.Has(ListingFeatures.Checksums))
            {
                // A file that cannot be read goes without one: the controller reports it as the planner would.
                entry = entry with { Checksum = _tree.Checksum(relative) };
            }

            if (_options.Has(ListingFeatures.DeviceNumbers))
            {
                entry = entry with { ListsDeviceNumbers = true };
            }

            if (_options.Has(ListingFeatures.ExtendedAttributes))
            {
                // Null when unreadable: the controller leaves the item's attributes alone rather than guess.
                entry = entry with { ExtendedAttributes = _tree.ExtendedAttributes(relative, _options.XattrScope), ListsExtendedAttributes = true };
            }

            selected.Add(entry);
        }

        return selected;
    }

    /// <summary>The per-directory files the filter reads: inside the tree only, through <see cref="SafeTree"/>.</summary>
    private string? ReadFile(string fullPath)
    {
        if (!fullPath.StartsWith(_prefix, StringComparison.Ordinal))
        {
            // A dir-merge name with a directory part also reads the files above the root; those are not the agent's to read.
            return null;
        }

        string relative = fullPath[_prefix.Length..];
        string? content = _tree.ReadFilterFile(relative, ListingOptions.MaxFilterBytes);
        _read.Add((relative, content));
        return content;
    }

    private static SyncFilter ParseRules(string text)
    {
        var lines = new List<string>();
        int number = 0;
        foreach (string line in text.Split('\n'))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                if (FilterRuleParser.Lex(line, "controller", number).Type == FilterRuleType.Merge)
                {
                    throw ProtocolFault.Violation("a filter rule that names a file for the agent to merge");
                }
            }
            catch (SyncException ex) when (ex.ErrorId == ErrorIds.InvalidFilterRule)
            {
                throw ProtocolFault.Violation("filter rules that do not parse: " + ex.Message);
            }

            lines.Add(line);
        }

        try
        {
            return SyncFilter.Parse(lines, workingDirectory: "/nonexistent");
        }
        catch (SyncException ex) when (ex.ErrorId is ErrorIds.InvalidFilterRule or ErrorIds.FilterFileUnreadable)
        {
            throw ProtocolFault.Violation("filter rules that do not parse: " + ex.Message);
        }
    }
}
