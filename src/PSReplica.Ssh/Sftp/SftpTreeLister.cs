using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Ssh;

/// <summary>Lists the server's side of a run directory by directory with SFTP readdir, whose attributes describe each
/// entry itself (lstat): a symbolic link is listed as a link and its target read with readlink, never followed. Every
/// name is checked as a name from a peer (DESIGN.md invariant 1: one safe component, no duplicate); the first
/// violation is kept as the session's fault and ends the run after planning.</summary>
internal sealed class SftpTreeLister : ITreeLister
{
    private readonly Func<string, IReadOnlyList<SftpEntry>> _list;
    private readonly Func<string, string> _readLink;
    private readonly string _root;
    private readonly SftpSession? _session;
    private SyncException? _fault;
    private long _nextInode;

    public SftpTreeLister(SftpSession sftp, string root)
        : this(sftp.List, sftp.ReadLink, root) => _session = sftp;

    /// <summary>Lists through the given readdir and readlink (tests play a hostile server with them).</summary>
    internal SftpTreeLister(Func<string, IReadOnlyList<SftpEntry>> list, Func<string, string> readLink, string root)
    {
        _list = list;
        _readLink = readLink;
        _root = root;
    }

    /// <summary>The first unsafe listing, or null.</summary>
    public SyncException? Fault => Volatile.Read(ref _fault);

    public List<FileEntry> List(string fullPath, string relative)
    {
        string directory = SftpPaths.Join(_root, relative);
        IReadOnlyList<SftpEntry> listed;
        try
        {
            listed = _list(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SyncException(ErrorIds.ScanError, ex is UnauthorizedAccessException ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
                $"Cannot list '{directory}' over SFTP: {ex.Message}", relative.Length == 0 ? "." : relative, ex);
        }

        var entries = new List<FileEntry>(listed.Count);
        try
        {
            foreach (SftpEntry entry in listed)
            {
                entries.Add(ToFileEntry(PeerNames.CheckName(entry.Name), SftpPaths.Join(directory, entry.Name), entry));
            }

            entries.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            for (int i = 1; i < entries.Count; i++)
            {
                if (string.Equals(entries[i].Name, entries[i - 1].Name, StringComparison.Ordinal))
                {
                    throw ProtocolFault.UnsafePath(PeerNames.Join(relative, entries[i].Name), "a second entry of the same name");
                }
            }
        }
        catch (SyncException ex) when (ex.ErrorId == ErrorIds.UnsafePath)
        {
            Interlocked.CompareExchange(ref _fault, ex, null);
            throw;
        }

        return entries;
    }

    /// <summary>What the destination's file system holds, measured by a probe over SFTP when the run writes
    /// (<see cref="SftpFileSystemProbe"/>); every entry has one device (SFTP tells none), so once per run.</summary>
    public FileSystemTraits Traits(string fullPath, ulong? device, bool measure) =>
        measure && device is not null && _session is not null ? SftpFileSystemProbe.Measure(_session, fullPath) : FileSystemTraits.Full;

    /// <summary>The root's own entry (links followed: a linked root is the directory it names).</summary>
    public FileEntry Root(SftpEntry entry) => ToFileEntry(entry.Name.Length == 0 ? "." : entry.Name, _root, entry);

    /// <summary>SFTP has no inode numbers; each entry gets its own, so the planner's loop guard and hard-link grouping
    /// (keyed by device and inode) see every item as distinct.</summary>
    private FileEntry ToFileEntry(string name, string fullPath, SftpEntry entry)
    {
        (EntryKind kind, int type) = entry.Kind switch
        {
            SftpEntryKind.File => (EntryKind.File, Posix.SIfreg),
            SftpEntryKind.Directory => (EntryKind.Directory, Posix.SIfdir),
            SftpEntryKind.SymbolicLink => (EntryKind.SymbolicLink, Posix.SIflnk),
            _ => (EntryKind.Special, 0),
        };
        string? target = null;
        if (kind == EntryKind.SymbolicLink)
        {
            try
            {
                target = PeerNames.CheckLinkTarget(_readLink(fullPath));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SyncException(ErrorIds.ScanError, SyncErrorKind.ReadError, $"Cannot read the symbolic link '{fullPath}': {ex.Message}", fullPath, ex);
            }
        }

        long seconds = entry.ModifiedSeconds;
        var stat = new StatInfo(type | (entry.Mode & 0xFFF), 1, (uint)entry.UserId, (uint)entry.GroupId,
            (ulong)Interlocked.Increment(ref _nextInode), entry.Length, seconds, 0, ulong.MaxValue);
        return new FileEntry(name, fullPath, kind, stat, target);
    }
}
