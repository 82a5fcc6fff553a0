using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;

namespace PSReplica.Engine.Agent;

/// <summary>The directories besides the root that the user named for a session (-LinkDest, -CompareDest, -CopyDest,
/// -BackupDirectory), each opened once by path (following links in that path, as for the root: the user chose it) and
/// from then on reached only through <see cref="SafeTree"/> walks, so nothing below one is read or written through a
/// link. A relative path is taken relative to the root, as rsync takes basis directories relative to the destination.</summary>
internal sealed class BasisTrees : IDisposable
{
    private readonly SafeTree?[] _trees = new SafeTree?[AgentRequest.MaxTrees];
    private readonly object _gate = new();

    /// <summary>Opens tree <paramref name="index"/>; returns its root's entry, or null when it is missing or not a
    /// directory (a basis directory the run then ignores; a backup directory is created when first used).</summary>
    public ListingEntry? Open(SafeTree root, int index, string path)
    {
        string full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Join(root.RootPath, path));
        var tree = new SafeTree(Path.TrimEndingDirectorySeparator(full));
        lock (_gate)
        {
            if (_trees[index] is not null)
            {
                tree.Dispose();
                throw ProtocolFault.Violation($"a second tree number {index}");
            }

            _trees[index] = tree;
        }

        try
        {
            return tree.DescribeRoot(ErrorIds.DestinationNotDirectory);
        }
        catch (SyncException)
        {
            return null;
        }
    }

    /// <summary>Tree <paramref name="index"/>, which the controller must have opened.</summary>
    public SafeTree Get(int index)
    {
        lock (_gate)
        {
            return _trees[index] ?? throw ProtocolFault.Violation($"a request for tree number {index}, which was not opened");
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            for (int i = 0; i < _trees.Length; i++)
            {
                _trees[i]?.Dispose();
                _trees[i] = null;
            }
        }
    }
}
