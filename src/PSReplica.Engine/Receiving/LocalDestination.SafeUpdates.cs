using PSReplica.Engine.Delta;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Receiving;

/// <summary>Issue #6's safe updates on a local destination (local runs and pulls): -Partial and -PartialDirectory keep
/// an interrupted transfer and resume from it, -DelayUpdates puts every updated file in place in one burst at the end,
/// -Inplace rewrites the destination file itself.</summary>
internal sealed partial class LocalDestination
{
    private readonly HashSet<string> _partialsInUse = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _partialDirectoryUsers = new(StringComparer.Ordinal);

    /// <summary>-DelayUpdates: the finished files waiting under their temp (or partial) names for the burst at the end,
    /// by their paths in the destination tree (the agent keeps its own the same way).</summary>
    private readonly DelayedRenames? _delayed;
    private SafeTree? _partialTree;

    /// <summary>An absolute -PartialDirectory, made when missing; it must be a real directory, never a link that would
    /// carry partial files elsewhere.</summary>
    private SafeTree PartialTree(string directory)
    {
        lock (_treeGate)
        {
            if (_partialTree is null)
            {
                int errno = Posix.Mkdir(directory, 0x1C0);
                if (errno != 0 && errno != Posix.EEXIST)
                {
                    throw new SyncException(ErrorIds.PartialDirectoryUnusable, SyncErrorKind.WriteError,
                        $"Cannot create the partial directory '{directory}': {Posix.Describe(errno)}.", directory);
                }

                if (Posix.Stat(directory, follow: false, out StatInfo info) != 0 || info.FileType != Posix.SIfdir)
                {
                    throw new SyncException(ErrorIds.PartialDirectoryUnusable, SyncErrorKind.WriteError,
                        $"The partial directory '{directory}' is not a directory (or is a symbolic link).", directory);
                }

                _partialTree = new SafeTree(directory) { NamesFromPeer = false };
            }

            return _partialTree;
        }
    }

    /// <summary>Takes the partial file of the target (<paramref name="item"/> in <paramref name="target"/>) for this copy,
    /// making its partial directory when needed. Null without -Partial, when another copy of this run uses the same
    /// partial name (an absolute partial directory holds files of that name from two directories), or when the partial
    /// directory is unusable (warned).</summary>
    private PartialUse? ClaimPartial(ParentDirectory target, string item)
    {
        if (_partials is null)
        {
            return null;
        }

        int slash = item.LastIndexOf('/');
        string parentInTree = slash < 0 ? string.Empty : item[..slash];
        // Under one lock with the removal in ReleasePartial: a copy finishing in the same directory must not remove the
        // partial directory between this one's mkdir and its open.
        lock (_partialsInUse)
        {
            PartialUse partial;
            try
            {
                if (_partials.AbsoluteDirectory is { } absolute)
                {
                    ParentDirectory root = PartialTree(absolute).OpenDirectory(string.Empty);
                    partial = new PartialUse(new ParentDirectory(root.Handle, target.Name, owned: false), "/" + target.Name, null, null, null, null);
                }
                else if (_partials.RelativeDirectory is { } name)
                {
                    string directoryInTree = PeerNames.Join(parentInTree, name);
                    string inTree = PeerNames.Join(directoryInTree, target.Name);
                    partial = new PartialUse(OpenPartialDirectory(target, name, item), inTree, inTree, directoryInTree, target.Handle, name);
                }
                else
                {
                    string hidden = PartialFiles.HiddenName(target.Name);
                    string inTree = PeerNames.Join(parentInTree, hidden);
                    partial = new PartialUse(new ParentDirectory(target.Handle, hidden, owned: false), inTree, inTree, null, null, null);
                }
            }
            catch (SyncException ex)
            {
                _observer.OnWarning(ex.Message + " The file is transferred without a partial copy.");
                return null;
            }

            if (!_partialsInUse.Add(partial.Key))
            {
                partial.Dispose();
                return null;
            }

            if (partial.DirectoryInTree is { } directory)
            {
                _partialDirectoryUsers[directory] = _partialDirectoryUsers.GetValueOrDefault(directory) + 1;
            }

            return partial;
        }
    }

    /// <summary>The relative -PartialDirectory inside the target's directory, made when missing and opened without
    /// following a link.</summary>
    private static ParentDirectory OpenPartialDirectory(ParentDirectory target, string name, string item)
    {
        int errno = Posix.MkdirAt(target.Handle, name, 0x1C0);
        if (errno != 0 && errno != Posix.EEXIST)
        {
            throw new SyncException(ErrorIds.PartialDirectoryUnusable, SyncErrorKind.WriteError,
                $"Cannot create the partial directory '{name}' for '{item}': {Posix.Describe(errno)}.", item);
        }

        SafeFileHandle? handle = Posix.OpenAt(target.Handle, name, Posix.OPath | Posix.ODirectory | Posix.ONoFollow, 0, out errno);
        return handle is null
            ? throw new SyncException(ErrorIds.PartialDirectoryUnusable, SyncErrorKind.WriteError,
                $"The partial directory '{name}' for '{item}' is not a directory (or is a symbolic link).", item)
            : new ParentDirectory(handle, target.Name, owned: true);
    }

    /// <summary>Gives the partial name back; the last copy using a relative partial directory removes it if it is empty.</summary>
    private void ReleasePartial(PartialUse? partial)
    {
        if (partial is null)
        {
            return;
        }

        lock (_partialsInUse)
        {
            _partialsInUse.Remove(partial.Key);
            if (partial.DirectoryInTree is { } directory)
            {
                int users = _partialDirectoryUsers.GetValueOrDefault(directory) - 1;
                if (users > 0)
                {
                    _partialDirectoryUsers[directory] = users;
                }
                else
                {
                    _partialDirectoryUsers.Remove(directory);
                    partial.RemoveDirectoryIfEmpty();
                }
            }

            partial.Dispose();
        }
    }

    /// <summary>-DelayUpdates (rsync --delay-updates): after every transfer is done, renames each finished file into place,
    /// one after the other, so the destination changes from old to new files in a short burst. Returns the failures.</summary>
    public List<SyncException> CommitDelayed()
    {
        var failures = new List<SyncException>();
        if (_delayed is null)
        {
            return failures;
        }

        foreach ((string path, string message) in _delayed.Commit(Tree))
        {
            failures.Add(new SyncException(ErrorIds.DelayedUpdateFailed, SyncErrorKind.WriteError,
                $"Cannot put '{path}' in place at the end of the run: {message}", path));
        }

        return failures;
    }

    /// <summary>A run that stops before its burst leaves the destination as it was: finished files waiting under a temp
    /// name are removed; those under a partial name (-Partial) stay, complete, for the next run to resume from.</summary>
    public void AbandonDelayed() => _delayed?.Abandon(Tree);

    /// <summary>Writes all of <paramref name="input"/> over <paramref name="file"/> from its start.</summary>
    private long WriteWhole(SafeFileHandle input, SafeFileHandle file, Action<long> progress, BandwidthThrottle? throttle)
    {
        using var output = new PositionalWriteStream(file);
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long copied = 0;
            while (true)
            {
                _cancellation.ThrowIfCancellationRequested();
                int n = Execution.SourceReadStream.Read(input, buffer.AsSpan(0, (int)Math.Min(buffer.Length, throttle?.Chunk ?? buffer.Length)), copied);
                if (n == 0)
                {
                    return copied;
                }

                output.Write(buffer, 0, n);
                copied += n;
                progress(copied);

                // As FileCopier: paced by what was copied, after it went.
                throttle?.Pace(n, _cancellation);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Record(PlannedAction action, long literal, long matched, long length)
    {
        action.Item.BytesTransferred = literal;
        action.Item.BytesMatched = matched;
        _meter.AddBytes(length);
    }

    /// <summary>A partial file taken by one copy: the directory that holds it (a descriptor, its name there), where it is
    /// in the destination tree (null in an absolute partial directory), and whether the copy resumes from it.</summary>
    private sealed class PartialUse(ParentDirectory directory, string key, string? inTree, string? directoryInTree, SafeFileHandle? parent,
        string? directoryName) : IDisposable
    {
        private ParentDirectory _directory = directory;

        /// <summary>What no two copies of a run may share.</summary>
        public string Key { get; } = key;

        /// <summary>The partial file's path in the destination tree; null when it is in an absolute partial directory.</summary>
        public string? InTree { get; } = inTree;

        /// <summary>A relative partial directory's path in the destination tree, removed once empty; else null.</summary>
        public string? DirectoryInTree { get; } = directoryInTree;

        /// <summary>In an absolute partial directory, a tree of its own (maybe another filesystem).</summary>
        public bool Elsewhere => InTree is null;

        /// <summary>The length of what an earlier run left (a regular file), or -1.</summary>
        public long Length { get; } = Posix.StatAt(directory.Handle, directory.Name, out StatInfo stat) == 0 && stat.FileType == Posix.SIfreg ? stat.Size : -1;

        public bool Resumed { get; set; }

        /// <summary>Opens what an earlier run left as the delta basis, or null when it is not a regular file.</summary>
        public SafeFileHandle? OpenAsBasis(out long length)
        {
            SafeFileHandle? file = Posix.OpenAt(_directory.Handle, _directory.Name, Posix.ORdOnly | Posix.ONoFollow | Posix.ONonBlock, 0, out _);
            if (file is not null && Posix.StatAt(file, string.Empty, out StatInfo stat) == 0 && stat.FileType == Posix.SIfreg)
            {
                length = stat.Size;
                return file;
            }

            file?.Dispose();
            length = 0;
            return null;
        }

        /// <summary>The new content written under the partial name itself (replacing what was there), so that an
        /// interruption leaves it for the next run.</summary>
        public PendingFile Create(string item)
        {
            Posix.UnlinkAt(_directory.Handle, _directory.Name, isDirectory: false);
            return PendingFile.In(new ParentDirectory(_directory.Handle, _directory.Name, owned: false), _directory.Name, item);
        }

        /// <summary>After an interrupted transfer (an error or a cancellation) the bytes written so far stay as the
        /// partial file: they are a prefix of the new file. A resumed transfer wrote to a temp name: the longer of it and
        /// the old partial file is kept.</summary>
        public void KeepWritten(PendingFile pending)
        {
            long written = RandomAccess.GetLength(pending.Handle);
            if (!Resumed)
            {
                if (written > 0)
                {
                    pending.Keep();
                }
            }
            else if (written > Length && Posix.RenameAt(pending.Directory, pending.Name, _directory.Handle, _directory.Name) == 0)
            {
                pending.Keep();
            }
        }

        /// <summary>Removes the partial file once the file it was for is in place.</summary>
        public void Remove() => Posix.UnlinkAt(_directory.Handle, _directory.Name, isDirectory: false);

        public void RemoveDirectoryIfEmpty()
        {
            if (parent is not null && directoryName is not null)
            {
                // Removed once empty, as rsync does; one still holding partial files stays.
                Posix.UnlinkAt(parent, directoryName, isDirectory: true);
            }
        }

        public void Dispose() => _directory.Dispose();
    }
}
