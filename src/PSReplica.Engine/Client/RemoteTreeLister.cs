using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Client;

/// <summary>Serves the planner's per-directory listings from one recursive listing streaming in from the agent. The
/// stream hands each directory out once; the planner lists a directory twice only when it replaces a directory by a
/// non-directory (the check for contents, then the deletion), one call after the other, so the last directory taken
/// is kept for a repeat.</summary>
internal sealed class RemoteTreeLister : ITreeLister
{
    private readonly RemoteListing _listing;
    private readonly object _gate = new();
    private string? _lastPath;
    private List<FileEntry>? _lastEntries;

    private readonly Func<string, bool, FileSystemTraits>? _describe;
    private readonly string? _root;
    private readonly CancellationToken _cancellation;

    /// <param name="resolvesLinks">The agent follows links (-CopyLinks): an entry still a link is dangling.</param>
    /// <param name="describe">Asks the agent what the file system of one of its directories (relative to
    /// <paramref name="root"/>) holds; null: an agent that cannot say (everything is assumed).</param>
    /// <param name="cancellation">The run's: a planner waiting for a directory that has not arrived stops waiting when the
    /// run is cancelled (a streamed plan's runner waits for its planner to end).</param>
    public RemoteTreeLister(RemoteListing listing, bool resolvesLinks = false, Func<string, bool, FileSystemTraits>? describe = null, string? root = null,
        CancellationToken cancellation = default)
    {
        _cancellation = cancellation;
        _listing = listing;
        ResolvesLinks = resolvesLinks;
        FilterFileReader = listing.ReadFilterFile;
        _describe = describe;
        _root = root;
    }

    public FileSystemTraits Traits(string fullPath, ulong? device, bool measure)
    {
        ArgumentNullException.ThrowIfNull(fullPath);
        if (_describe is null || _root is null || device is null)
        {
            return FileSystemTraits.Full;
        }

        string relative = fullPath == _root ? string.Empty
            : fullPath.StartsWith(_root.TrimEnd('/') + "/", StringComparison.Ordinal) ? fullPath[(_root.TrimEnd('/').Length + 1)..]
            : throw new ArgumentException($"'{fullPath}' is not below the agent's root '{_root}'.", nameof(fullPath));
        return _describe(relative, measure);
    }

    public Func<string, string?>? FilterFileReader { get; }

    public bool ResolvesLinks { get; }

    /// <exception cref="IOException">The listing carries checksums but none for this file (the agent could not read it).</exception>
    public UInt128? Checksum(FileEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!_listing.HasChecksums)
        {
            return null;
        }

        // An entry from elsewhere (a local basis directory) is hashed where it is.
        return _listing.Checksum(entry) ?? (_listing.Holds(entry.FullPath) ? throw new IOException("the agent could not read it") : null);
    }

    /// <summary>What the agent's listing carried for the entry (<see cref="Protocol.ListingFeatures.ExtendedAttributes"/>);
    /// an entry from elsewhere (a local basis directory) is read where it is.</summary>
    public Metadata.ExtendedAttributeSet? ExtendedAttributes(FileEntry entry, Metadata.XattrScope scope)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.ExtendedAttributes is null && _listing.IsStart(entry.FullPath))
        {
            return entry.ExtendedAttributes = _listing.StartAttributes;
        }

        // The root's own entry (from Opened) carries none: unknown, as is any entry of the agent's tree the listing left without.
        return entry.ExtendedAttributes ?? (_listing.Holds(entry.FullPath + "/") ? null
            : entry.ExtendedAttributes = Metadata.ExtendedAttributeSet.Read(Native.Posix.XattrTarget.Path(entry.FullPath), scope, out _));
    }

    public List<FileEntry> List(string fullPath, string relative)
    {
        lock (_gate)
        {
            if (_lastPath == relative && _lastEntries is not null)
            {
                return _lastEntries;
            }
        }

        List<FileEntry> entries = _listing.TakeAsync(relative, _cancellation).GetAwaiter().GetResult();
        lock (_gate)
        {
            _lastPath = relative;
            _lastEntries = entries;
        }

        return entries;
    }
}
