using System.Collections.Generic;
using System.IO;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Planning;

/// <summary>The run's basis directories (-LinkDest, -CompareDest or -CopyDest), resolved to full paths.</summary>
internal sealed class BasisDirectories
{
    private BasisDirectories(BasisKind kind, List<string> directories)
    {
        Kind = kind;
        Directories = directories;
    }

    public BasisKind Kind { get; }

    public IReadOnlyList<string> Directories { get; }

    /// <summary>Reads the options. As in rsync, a relative directory is relative to the destination, the kinds may not be
    /// mixed, and a directory that does not exist is reported with a warning and otherwise ignored.</summary>
    public static BasisDirectories From(SyncOptions options, string destinationRoot, ISyncObserver observer)
    {
        int kinds = (options.LinkDest.Count > 0 ? 1 : 0) + (options.CompareDest.Count > 0 ? 1 : 0) + (options.CopyDest.Count > 0 ? 1 : 0);
        if (kinds > 1)
        {
            throw new SyncException(ErrorIds.InvalidBasisDirectories, SyncErrorKind.InvalidArgument,
                "Use only one of -LinkDest, -CompareDest and -CopyDest (each may name several directories).", destinationRoot);
        }

        (BasisKind kind, IReadOnlyList<string> given) = options.LinkDest.Count > 0 ? (BasisKind.Link, options.LinkDest)
            : options.CompareDest.Count > 0 ? (BasisKind.Compare, options.CompareDest)
            : options.CopyDest.Count > 0 ? (BasisKind.Copy, options.CopyDest)
            : (BasisKind.None, options.LinkDest);
        var directories = new List<string>(given.Count);
        foreach (string directory in given)
        {
            string full = Path.GetFullPath(Path.IsPathRooted(directory) ? directory : Path.Join(destinationRoot, directory));
            if (Posix.Stat(full, follow: true, out StatInfo info) != 0 || (info.Mode & Posix.SIfmt) != Posix.SIfdir)
            {
                observer.OnWarning($"The basis directory '{directory}' does not exist (resolved to '{full}'); it is ignored.");
                continue;
            }

            directories.Add(full);
        }

        return new BasisDirectories(directories.Count > 0 ? kind : BasisKind.None, directories);
    }
}
