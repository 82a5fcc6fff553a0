namespace PSReplica.Engine.Protocol;

/// <summary>The controller's checks on a listing stream: each directory listed is one that was requested or that an
/// earlier listing announced as a directory (never a link or file of that name: CVE-2022-29154, CVE-2024-12087), each
/// at most once; names are single safe components in strictly ascending ordinal order, so none repeats and no file is
/// followed by a directory of the same name; every announced directory is listed before the stream ends (with
/// -OneFileSystem, every one on the root's device: the others are mount points the agent does not walk into).</summary>
internal sealed class ListingValidator
{
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private readonly bool _recursive;
    private string? _current;
    private string? _lastName;

    public ListingValidator(string requested, bool recursive)
    {
        _pending.Add(requested);
        _recursive = recursive;
    }

    /// <summary>-OneFileSystem: the root's device; an announced directory on another is not expected to be listed (and may
    /// not be). Null: every announced directory is.</summary>
    public ulong? WalkedDevice { get; init; }

    /// <summary>The directory whose entries are being received, or null between directories.</summary>
    public string? Current => _current;

    public void StartDirectory(string path)
    {
        if (_current is not null)
        {
            throw ProtocolFault.Violation($"directory '{ProtocolFault.Printable(path)}' starts inside '{ProtocolFault.Printable(_current)}'");
        }

        PeerNames.CheckPath(path, allowRoot: true);
        if (!_pending.Remove(path))
        {
            throw ProtocolFault.UnsafePath(path, "a directory that was not requested or not announced as a directory");
        }

        _current = path;
        _lastName = null;
    }

    public void Entry(in ListingEntry entry)
    {
        if (_current is null)
        {
            throw ProtocolFault.Violation("an entry outside any directory");
        }

        if (_lastName is not null && string.CompareOrdinal(entry.Name, _lastName) <= 0)
        {
            throw ProtocolFault.Violation(string.Equals(entry.Name, _lastName, StringComparison.Ordinal)
                ? $"a second entry named '{ProtocolFault.Printable(entry.Name)}' in '{ProtocolFault.Printable(_current)}'"
                : $"entries out of order in '{ProtocolFault.Printable(_current)}'");
        }

        _lastName = entry.Name;
        if (_recursive && entry.Kind == Scanning.EntryKind.Directory && (WalkedDevice is not { } device || entry.Stat.Device == device))
        {
            _pending.Add(PeerNames.Join(_current, entry.Name));
        }
    }

    public string EndDirectory()
    {
        string done = _current ?? throw ProtocolFault.Violation("a directory end outside any directory");
        _current = null;
        return done;
    }

    public void DirectoryFailed(string path)
    {
        if (_current is not null)
        {
            throw ProtocolFault.Violation("a directory error inside another directory");
        }

        PeerNames.CheckPath(path, allowRoot: true);
        if (!_pending.Remove(path))
        {
            throw ProtocolFault.UnsafePath(path, "an error for a directory that was not requested");
        }
    }

    public void Complete()
    {
        if (_current is not null || _pending.Count > 0)
        {
            throw ProtocolFault.Violation("the listing ended before every directory was listed");
        }
    }
}
