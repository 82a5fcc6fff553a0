using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Client;

/// <summary>The executor's actions on a remote destination that use its host's other directories: basis directories
/// (-LinkDest links, -CopyDest copies, a delta basis for a new file), backups before a file is replaced or deleted, and
/// hard-link groups. The same decisions as the local destination's, carried out by the agent.</summary>
internal sealed partial class RemoteDestination
{
    /// <summary>Does what only a destination with basis trees does; true when the action is complete.</summary>
    private bool PerformBasisAction(PlannedAction action, IDestinationTree tree, string wire)
    {
        string relative = action.Item.RelativePath;
        if (tree is not IBasisDestination named)
        {
            return PerformWithoutBasisTrees(action, tree, wire);
        }

        if (_options.Backup && NeedsBackup(action))
        {
            named.Backup(wire, _cancellation);
        }

        switch (action.Kind)
        {
            case ActionKind.HardLink:
                LinkRemote(action, named, wire);
                return true;

            case ActionKind.CopyFile when action.Basis is not null:
                CopyFromRemoteBasis(action, tree, named, wire);
                return true;

            case ActionKind.Delete when _options.Backup && named.BacksUpBeside && action.Existing!.IsDirectory:
                DeleteKeepingBackups(action, tree, wire);
                return true;

            default:
                return false;
        }
    }

    /// <summary>A destination without basis trees (SFTP) links hard-link groups when it can, and moves a deleted item aside
    /// under -Backup (it backs up replaced items itself). A link to a basis file is refused before the run
    /// (DestinationCapabilities.BasisDirectories), so one reaching here is an error, never a no-op.</summary>
    private bool PerformWithoutBasisTrees(PlannedAction action, IDestinationTree tree, string wire)
    {
        string relative = action.Item.RelativePath;
        switch (action.Kind)
        {
            case ActionKind.HardLink:
                if (action.LinkTo is not { } first || tree is not IHardLinkDestination links)
                {
                    throw new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError,
                        $"Cannot create the hard link '{relative}': this destination cannot make it.", relative);
                }

                // Without inodes in its listing (SFTP) a name already linked is linked again every run: only a file the quick
                // check says is not the source's is backed up, else each run would back up the same file once more.
                if (_options.Backup && tree is IBackupDestination aside && NeedsBackup(action)
                    && action.Existing is { } replaced && action.Source is { } source && (replaced.Length != source.Length || replaced.MtimeSeconds != source.MtimeSeconds))
                {
                    aside.MoveAside(wire, _cancellation);
                }

                links.LinkWithin(wire, WithinDestination(first), _cancellation);
                return true;

            case ActionKind.Delete when _options.Backup && tree is IBackupDestination backups && NeedsBackup(action):
                backups.MoveAside(wire, _cancellation);
                return true;

            case ActionKind.Delete when _options.Backup && tree is IBackupDestination { BacksUpBeside: true } && action.Existing!.IsDirectory:
                DeleteKeepingBackups(action, tree, wire);
                return true;

            default:
                return false;
        }
    }

    /// <summary>-Backup without -BackupDirectory: a directory whose files were moved aside holds their backups, and stays,
    /// as in rsync.</summary>
    private void DeleteKeepingBackups(PlannedAction action, IDestinationTree tree, string wire)
    {
        try
        {
            tree.Delete(wire, isDirectory: true, _cancellation);
        }
        catch (SyncException ex) when (ex.ErrorId == ErrorIds.DeleteFailed)
        {
            _observer.OnWarning($"Keeping the directory '{action.Item.RelativePath}': {ex.Message}");
        }
    }

    /// <summary>A group's first name (a destination path) relative to the destination root.</summary>
    private string WithinDestination(string path)
    {
        string root = _plan.DestinationRoot.TrimEnd('/') + "/";
        return path.StartsWith(root, System.StringComparison.Ordinal) ? path[root.Length..] : path;
    }

    /// <summary>As locally: a file, link or node that is replaced (also by a name of its hard-link group), and one that is
    /// deleted, is backed up first.</summary>
    private bool NeedsBackup(PlannedAction action) => action.Existing is { IsDirectory: false } && action.Kind switch
    {
        ActionKind.CopyFile or ActionKind.CreateSymbolicLink or ActionKind.CreateNode => true,
        ActionKind.HardLink => action.LinkTo is not null,
        ActionKind.Delete => action.Item.Reason != SyncReason.TemporaryFile && _options.BacksUpDeletionOf(action.Item.RelativePath),
        _ => false,
    };

    private void LinkRemote(PlannedAction action, IBasisDestination named, string wire)
    {
        if (action.LinkTo is { } first)
        {
            named.LinkWithin(wire, WithinDestination(first), _cancellation);
            return;
        }

        (AttributeSet attributes, string? linkTarget) = LinkRequest(action);
        (bool linked, int errno, long length) = named.LinkFromBasis(wire, action.BasisIndex, attributes, linkTarget, _cancellation);
        if (!linked)
        {
            CopiedInstead(action, errno, length);
        }
    }

    /// <summary>Sends a -LinkDest link to an agent that keeps the order of changes, without waiting: the item settles when
    /// the answer comes (its failure reported on it), so a snapshot's links cost no round trip each. It goes after the
    /// directory made for it and the deletion of what it replaces (both ordered requests sent before it), and the
    /// directory's times are set only after everything is drained. A link within the tree (-HardLinks) still waits: it
    /// needs its group's first name made.</summary>
    private bool StartLink(PlannedAction action, RemoteDestinationTree tree, string wire, Action<SyncException?> settle)
    {
        if (action.LinkTo is not null)
        {
            return false;
        }

        Task<(bool Linked, int Errno, long Length)> answer;
        try
        {
            (AttributeSet attributes, string? linkTarget) = LinkRequest(action);
            answer = tree.StartLinkFromBasis(wire, action.BasisIndex, attributes, linkTarget, _cancellation);
        }
        catch (SyncException ex)
        {
            answer = Task.FromException<(bool, int, long)>(ex);
        }

        Track(SettleAsync(action.Item.RelativePath, LinkedAsync(action, answer), settle));
        return true;
    }

    /// <summary>A -LinkDest link's attributes (for the copy made where it cannot be linked) and, for a symbolic link, the
    /// target it must have.</summary>
    private (AttributeSet Attributes, string? LinkTarget) LinkRequest(PlannedAction action) =>
        action.Source is { Kind: EntryKind.SymbolicLink } link
            ? (_attributes.ForLink(link, action.Item.RelativePath), link.LinkTarget)
            : (_attributes.ForFile(action), null);

    private async Task LinkedAsync(PlannedAction action, Task<(bool Linked, int Errno, long Length)> answer)
    {
        (bool linked, int errno, long length) = await answer.ConfigureAwait(false);
        if (!linked)
        {
            CopiedInstead(action, errno, length);
        }
    }

    /// <summary>The agent copied the basis file where the filesystem refused the link: warned once per run, and counted as
    /// matched bytes (nothing was sent).</summary>
    private void CopiedInstead(PlannedAction action, int errno, long length)
    {
        if (Interlocked.Exchange(ref _linkFallbackReported, 1) == 0)
        {
            _observer.OnWarning($"Cannot hard-link '{action.Item.RelativePath}' to '{action.Basis!.FullPath}' ({Posix.Describe(errno)}); "
                + (action.Source is { Kind: EntryKind.SymbolicLink } ? "made the link anew" : "copied it on the remote host instead")
                + " (reported once per run).");
        }

        action.Item.BytesMatched = length;
        _meter.AddBytes(length);
    }

    /// <summary>-CopyDest copies the basis file on the agent's host; any other basis is the delta basis of the new file
    /// (sent whole if the delta does not verify).</summary>
    private void CopyFromRemoteBasis(PlannedAction action, IDestinationTree tree, IBasisDestination named, string wire)
    {
        FileEntry source = action.Source!;
        AttributeSet attributes = _attributes.ForFile(action);
        if (action.CopyFromBasis)
        {
            TransferResult copied = named.CopyFromBasis(wire, action.BasisIndex, attributes, _cancellation);
            action.Item.BytesTransferred = 0;
            action.Item.BytesMatched = copied.Length;
            _meter.AddBytes(copied.Length);
            return;
        }

        string relative = action.Item.RelativePath;
        Action<long> Progress = _meter.For(relative, source.Length);
        if (UsesDelta(action))
        {
            try
            {
                Record(action, named.WriteFileFromBasis(wire, source, action.BasisIndex, _options.BlockSize, attributes, Progress, _cancellation));
                return;
            }
            catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
            {
                _observer.OnWarning($"'{relative}' did not verify after a delta transfer; sending it whole.");
            }
        }

        Record(action, tree.WriteFile(wire, source, delta: false, _options.BlockSize, attributes, Progress, _cancellation));
    }
}
