using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Execution;

/// <summary>Issue #6's safe updates on a local destination (local runs and pulls): -Partial and -PartialDirectory keep
/// an interrupted transfer and resume from it, -DelayUpdates puts every updated file in place in one burst at the end,
/// -Inplace rewrites the destination file itself.</summary>
internal sealed partial class SyncExecutor
{
    private readonly HashSet<string> _partialsInUse = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _partialDirectoryUsers = new(StringComparer.Ordinal);
    private readonly List<DelayedUpdate>? _delayed;
    private readonly Dictionary<string, string> _pendingByTarget = new(StringComparer.Ordinal);

    /// <summary>Takes the partial file of <paramref name="target"/> for this copy, making its partial directory when
    /// needed. Null without -Partial, when another copy of this run uses the same partial name (an absolute partial
    /// directory holds files of that name from two directories), or when the partial directory is unusable (warned).</summary>
    private PartialUse? ClaimPartial(string target, string relative)
    {
        if (_partials is null)
        {
            return null;
        }

        string path = _partials.PathFor(target);
        string? directory = _partials.OwnDirectoryOf(path);
        // Under one lock with the removal in ReleasePartial: a copy finishing in the same directory must not remove the
        // partial directory between this one's mkdir and its open.
        lock (_partialsInUse)
        {
            if (!_partialsInUse.Add(path))
            {
                return null;
            }

            try
            {
                if (_partials.HasDirectory)
                {
                    PartialFiles.EnsureDirectory(Path.GetDirectoryName(path)!, relative);
                }
            }
            catch (SyncException ex)
            {
                _partialsInUse.Remove(path);
                _observer.OnWarning(ex.Message + " The file is transferred without a partial copy.");
                return null;
            }

            if (directory is not null)
            {
                _partialDirectoryUsers[directory] = _partialDirectoryUsers.GetValueOrDefault(directory) + 1;
            }
        }

        return new PartialUse(path, directory);
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
            _partialsInUse.Remove(partial.Path);
            if (partial.Directory is { } directory)
            {
                int users = _partialDirectoryUsers.GetValueOrDefault(directory) - 1;
                if (users > 0)
                {
                    _partialDirectoryUsers[directory] = users;
                }
                else
                {
                    _partialDirectoryUsers.Remove(directory);
                    PartialFiles.RemoveIfEmpty(directory);
                }
            }
        }
    }

    /// <summary>After an interrupted transfer (an error or a cancellation) the bytes written so far stay as the partial
    /// file: they are a prefix of the new file. A resumed transfer wrote to a temp name: the longer of it and the old
    /// partial file is kept.</summary>
    private static void KeepPartial(PartialUse partial, string output)
    {
        if (output == partial.Path)
        {
            if (PartialFiles.LengthOf(output) <= 0)
            {
                TryDelete(output);
            }
        }
        else if (PartialFiles.LengthOf(output) <= PartialFiles.LengthOf(partial.Path) || Posix.Rename(output, partial.Path) != 0)
        {
            TryDelete(output);
        }
    }

    /// <summary>Renames a finished file over its target. From an absolute partial directory on another filesystem the file
    /// is copied to a temp name beside the target first (rename is atomic only within one filesystem).</summary>
    private void MoveIntoPlace(string from, string target, string relative, Action<SafeFileHandle> finish)
    {
        int errno = Posix.Rename(from, target);
        if (errno == Posix.EXDEV)
        {
            string temp = Path.Join(Path.GetDirectoryName(target), TempFileNames.For(Path.GetFileName(target)));
            try
            {
                FileCopier.Copy(from, temp, null, finish, _cancellation);
                Check(Posix.Rename(temp, target), ErrorIds.FileWriteError, "Cannot move into place", relative);
            }
            catch
            {
                TryDelete(temp);
                throw;
            }

            TryDelete(from);
            return;
        }

        Check(errno, ErrorIds.FileWriteError, "Cannot move into place", relative);
    }

    private void Defer(DelayedUpdate update)
    {
        lock (_delayed!)
        {
            _delayed.Add(update);
            _pendingByTarget[update.Target] = update.Path;
        }
    }

    /// <summary>The name under which <paramref name="target"/>'s new content waits for the burst, if it does.</summary>
    private string? PendingPathOf(string target)
    {
        if (_delayed is null)
        {
            return null;
        }

        lock (_delayed)
        {
            return _pendingByTarget.GetValueOrDefault(target);
        }
    }

    /// <summary>-DelayUpdates (rsync --delay-updates): after every transfer is done, renames each finished file into place,
    /// one after the other, so the destination changes from old to new files in a short burst.</summary>
    private void CommitDelayed()
    {
        foreach (DelayedUpdate update in _delayed!)
        {
            _cancellation.ThrowIfCancellationRequested();
            try
            {
                if (_backups is not null && update.BackUp)
                {
                    _backups.MoveAside(update.Target, update.Relative);
                }

                MoveIntoPlace(update.Path, update.Target, update.Relative, update.Finish);
                if (update.ObsoletePartial is not null)
                {
                    TryDelete(update.ObsoletePartial);
                }

                PartialFiles.RemoveIfEmpty(update.PartialDirectory);
            }
            catch (Exception ex) when (ex is SyncException or IOException or UnauthorizedAccessException)
            {
                if (!update.IsPartial)
                {
                    TryDelete(update.Path);
                }

                lock (_gate)
                {
                    _summary.Errors++;
                }

                _observer.OnError(new SyncException(ErrorIds.DelayedUpdateFailed, SyncErrorKind.WriteError,
                    $"Cannot put '{update.Relative}' in place at the end of the run: {ex.Message}", update.Relative, ex));
            }
        }

        _delayed.Clear();
    }

    /// <summary>A run that stops before its burst leaves the destination as it was: finished files waiting under a temp
    /// name are removed; those under a partial name (-Partial) stay, complete, for the next run to resume from.</summary>
    private void AbandonDelayed()
    {
        if (_delayed is null)
        {
            return;
        }

        foreach (DelayedUpdate update in _delayed)
        {
            if (!update.IsPartial)
            {
                TryDelete(update.Path);
            }
        }

        _delayed.Clear();
    }

    /// <summary>-Inplace (rsync --inplace): writes the destination file itself. A delta uses the file as its own basis
    /// (see <see cref="InplacePatchWriter"/>); a new file with a basis in a -LinkDest/-CopyDest directory is patched from
    /// there. Nothing is removed on failure: the file stays as far as it was written.</summary>
    private void CopyInPlace(PlannedAction action, bool fromBasis, Action<long> progress, Action<SafeFileHandle> finish)
    {
        FileEntry source = action.Source!;
        string target = action.DestinationPath;
        string relative = action.Item.RelativePath;
        bool exists = action.Existing is { Kind: EntryKind.File };
        if (_backups is not null && exists)
        {
            _backups.CopyAside(target, relative);
        }

        if (!fromBasis && !exists && action.Basis is { } basis && UsesDelta(action))
        {
            try
            {
                DeltaResult result = _sourceTree is null
                    ? DeltaCopier.Copy(() => _sourceFiles!.Open(relative, source), basis.FullPath, target, _options.BlockSize, progress, finish, _cancellation, _throttle)
                    : _sourceTree.CopyDelta(relative, basis.FullPath, target, _options.BlockSize, progress, finish, _cancellation);
                Record(action, result.LiteralBytes, result.MatchedBytes, result.Length);
                return;
            }
            catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
            {
                TryDelete(target);
                _observer.OnWarning($"'{relative}' did not verify after a delta transfer; sending it whole.");
            }
        }

        using SafeFileHandle file = InplaceCopier.Open(target, exists, relative);
        if (!fromBasis && exists && UsesDelta(action))
        {
            SafeFileHandle? literalSource = _sourceFiles?.Open(relative, source);
            try
            {
                DeltaResult result = InplaceCopier.Delta(file, _options.BlockSize, literalSource, (signature, sink) => _sourceTree is null
                    ? InplaceCopier.Search(() => _sourceFiles!.Open(relative, source), signature, sink, progress, _throttle, _cancellation)
                    : _sourceTree.Delta(relative, signature, sink, progress, _cancellation), _cancellation);
                finish(file);
                Record(action, result.LiteralBytes, result.MatchedBytes, result.Length);
                return;
            }
            catch (SyncException ex) when (ex.ErrorId is ErrorIds.DeltaVerificationFailed or ErrorIds.DeltaStreamInvalid)
            {
                _observer.OnWarning($"'{relative}' did not verify after a delta transfer in place; sending it whole.");
            }
            catch (InplaceConflictException)
            {
                // The sender matched blocks that were already overwritten here; the whole file is the way out.
            }
            finally
            {
                literalSource?.Dispose();
            }
        }

        long copied;
        if (fromBasis || _sourceTree is null)
        {
            using SafeFileHandle input = fromBasis ? FileCopier.OpenSource(action.Basis!.FullPath) : _sourceFiles!.Open(relative, source);
            copied = WriteWhole(input, file, progress, fromBasis ? null : _throttle);
        }
        else
        {
            using var output = new PositionalWriteStream(file);
            copied = _sourceTree.Read(relative, output, _cancellation);
            progress(copied);
        }

        RandomAccess.SetLength(file, copied);
        finish(file);
        Record(action, fromBasis ? 0 : copied, fromBasis ? copied : 0, copied);
    }

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
                throttle?.Pace(Math.Min(buffer.Length, throttle.Chunk), _cancellation);
                int n = RandomAccess.Read(input, buffer.AsSpan(0, (int)Math.Min(buffer.Length, throttle?.Chunk ?? buffer.Length)), copied);
                if (n == 0)
                {
                    return copied;
                }

                output.Write(buffer, 0, n);
                copied += n;
                progress(copied);
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
        Interlocked.Add(ref _bytesDone, length);
    }

    /// <summary>A partial file taken by one copy: its path, the partial directory this run may remove when empty, and
    /// whether the copy resumes from it.</summary>
    private sealed class PartialUse(string path, string? directory)
    {
        public string Path { get; } = path;

        public string? Directory { get; } = directory;

        public bool Resumed { get; set; }
    }

    /// <summary>A finished file waiting for the -DelayUpdates burst.</summary>
    /// <param name="Path">Where it waits: a temp name, or its partial name (<paramref name="IsPartial"/>).</param>
    /// <param name="ObsoletePartial">The partial file it resumed from, removed once it is in place.</param>
    private sealed record DelayedUpdate(string Path, string Target, string Relative, bool BackUp, Action<SafeFileHandle> Finish,
        string? ObsoletePartial, string? PartialDirectory, bool IsPartial);
}
