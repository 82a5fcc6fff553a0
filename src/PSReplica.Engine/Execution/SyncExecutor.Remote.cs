using System.Threading;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Remote;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Execution;

/// <summary>The executor's actions on a destination reached through an agent: the same decisions as the local
/// actions (which attributes, when, and in what order), carried out as requests instead of system calls.</summary>
internal sealed partial class SyncExecutor
{
    private const int RemoteWorkers = 16;

    private bool IsRemote => _destinationTree is not null || _sourceTree is not null;

    private void PerformRemote(PlannedAction action, IDestinationTree tree)
    {
        string relative = action.Item.RelativePath;
        string wire = relative == "." ? string.Empty : relative;
        if (PerformNamedTreeAction(action, tree, wire))
        {
            return;
        }

        switch (action.Kind)
        {
            case ActionKind.CreateRoot:
                tree.CreateDirectory(string.Empty, AttributeSet.None, _cancellation);
                _createdDirectories.Add(string.Empty);
                Touch(string.Empty, self: true);
                break;

            case ActionKind.CreateDirectory:
                tree.CreateDirectory(wire, AttributeSet.None, _cancellation);
                _createdDirectories.Add(relative);
                Touch(relative);
                break;

            case ActionKind.CopyFile:
                CopyFileRemote(action, tree);
                Touch(relative);
                break;

            case ActionKind.CreateSymbolicLink:
                FileEntry link = action.Source!;
                tree.CreateSymbolicLink(wire, link.LinkTarget!, Attributes(link, mode: null, owner: true, time: Preserves(PreserveOptions.Times)), _cancellation);
                Touch(relative);
                break;

            case ActionKind.Metadata:
                ApplyMetadataRemote(action, tree, wire);
                break;

            case ActionKind.Delete:
                tree.Delete(wire, action.Existing!.IsDirectory, _cancellation);
                Touch(relative);
                break;
        }
    }

    private void CopyFileRemote(PlannedAction action, IDestinationTree tree)
    {
        FileEntry source = action.Source!;
        string relative = action.Item.RelativePath;
        if (source.Length >= LargeFile)
        {
            ReportProgress(relative, 0, source.Length, force: true);
        }

        int permissions = Preserves(PreserveOptions.Permissions) ? source.Permissions
            : action.Existing is { Kind: EntryKind.File } existing ? existing.Permissions
            : source.Permissions & ~_umask;
        AttributeSet attributes = Attributes(source, permissions, owner: true, time: Preserves(PreserveOptions.Times));
        void Progress(long done) => ReportProgress(relative, done, source.Length, force: source.Length >= LargeFile);

        TransferResult result;
        if (UsesDelta(action))
        {
            try
            {
                result = tree.WriteFile(relative, source, delta: true, _options.BlockSize, attributes, Progress, _cancellation);
                Record(action, result);
                return;
            }
            catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
            {
                // As rsync does: one more try, sending the whole file (the basis may also have changed meanwhile).
                _observer.OnWarning($"'{relative}' did not verify after a delta transfer; sending it whole.");
            }
        }

        result = tree.WriteFile(relative, source, delta: false, _options.BlockSize, attributes, Progress, _cancellation);
        Record(action, result);
    }

    private void Record(PlannedAction action, TransferResult result)
    {
        action.Item.BytesTransferred = result.LiteralBytes;
        action.Item.BytesMatched = result.MatchedBytes;
        Interlocked.Add(ref _bytesDone, result.Length);
    }

    private void ApplyMetadataRemote(PlannedAction action, IDestinationTree tree, string wire)
    {
        FileEntry source = action.Source!;
        string relative = action.Item.RelativePath;
        bool permissionsChanged = (action.Changes & AttributeChanges.Permissions) != 0;
        if (source.IsDirectory)
        {
            // Times and exact permissions follow the contents (FinishDirectories); the owner keeps write access meanwhile.
            tree.SetAttributes(wire, Attributes(source, permissionsChanged ? source.Permissions | OwnerAccess : null, owner: true, time: false), _cancellation);
            Touch(relative == "." ? string.Empty : relative, self: true);
            return;
        }

        bool ownerChanged = (action.Changes & (AttributeChanges.Owner | AttributeChanges.Group)) != 0;
        bool mode = source.Kind == EntryKind.File && (permissionsChanged || (ownerChanged && Preserves(PreserveOptions.Permissions)));
        bool time = (action.Changes & AttributeChanges.Times) != 0;
        tree.SetAttributes(wire, Attributes(source, mode ? source.Permissions : null, owner: ownerChanged, time), _cancellation);
    }

    private void FinishRemoteDirectory(IDestinationTree tree, string relative, FileEntry source, bool created)
    {
        int? mode = Preserves(PreserveOptions.Permissions) ? source.Permissions : created ? source.Permissions & ~_umask : null;
        tree.SetAttributes(relative, Attributes(source, mode, owner: created, time: Preserves(PreserveOptions.Times)), _cancellation);
    }

    /// <summary>The attributes to send: the mode when given, the owner and group that -Preserve asks for, the time.</summary>
    private AttributeSet Attributes(FileEntry source, int? mode, bool owner, bool time)
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

        return new AttributeSet(fields, mode ?? 0, source.Uid, source.Gid, source.MtimeSeconds, source.MtimeNanoseconds);
    }
}
