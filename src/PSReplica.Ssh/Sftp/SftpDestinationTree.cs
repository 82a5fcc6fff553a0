using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Client;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica.Ssh;

/// <summary>The destination of a push over SFTP. A file is written whole into a new temporary name beside its target
/// (opened with CREAT|EXCL, so nothing standing there is followed or truncated), given its attributes, and renamed over
/// the target (posix-rename where offered), so the target never shows a torn file. Links are made under a temporary
/// name and renamed into place as well; SFTP cannot set a link's own time or owner, so links keep the server's. Hard
/// links are made with hardlink@openssh.com; -Backup moves the old item aside by rename just before its successor is
/// renamed into place.</summary>
internal sealed class SftpDestinationTree : IDestinationTree, IHardLinkDestination, IBackupDestination
{
    private const int ChunkLength = 256 * 1024;

    private readonly SftpSession _sftp;
    private readonly string _root;
    private readonly SourceFiles _sources;

    /// <summary>-Watch (SyncOptions.SourceMustRest): a source file written while it was read is not renamed into place.</summary>
    private readonly bool _sourceMustRest;

    /// <summary>With -Backup: where backups go (null: beside their files) and the suffix they get; else both null.</summary>
    private readonly string? _backupDirectory;
    private readonly string? _backupSuffix;

    /// <summary>Backup directories known to exist (made or seen) in this run.</summary>
    private readonly ConcurrentDictionary<string, bool> _backupDirectories = new(StringComparer.Ordinal);

    /// <param name="sources">The local source's files, each opened checked against the scan (the caller disposes them).</param>
    /// <summary>What the file system an item (relative to the root) is written to holds: the plan's destination traits.</summary>
    internal Func<string, FileSystemTraits>? TraitsOf { get; init; }

    public SftpDestinationTree(SftpSession sftp, string root, SourceFiles sources, SyncOptions? options = null)
    {
        _sftp = sftp;
        _root = root;
        _sources = sources;
        _sourceMustRest = options is { SourceMustRest: true };
        if (options is { Backup: true })
        {
            // A relative backup directory is relative to the destination root, as locally.
            string? given = options.BackupDirectory;
            _backupDirectory = string.IsNullOrEmpty(given) ? null
                : given.StartsWith('/') ? (given.Length > 1 ? given.TrimEnd('/') : given)
                : SftpPaths.Join(root, given.TrimEnd('/'));
            _backupSuffix = options.EffectiveBackupSuffix;
        }
    }

    public bool BacksUpBeside => _backupDirectory is null;

    public void CreateDirectory(string relative, AttributeSet attributes, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        if (relative.Length == 0 || relative == ".")
        {
            CreateRoot();
        }
        else
        {
            Write(relative, ErrorIds.FileWriteError, "Cannot create directory", () => _sftp.Mkdir(SftpPaths.Join(_root, relative)));
        }

        SetAttributes(relative, attributes, cancellation);
    }

    public TransferResult WriteFile(string relative, FileEntry source, bool delta, int? blockLength, AttributeSet attributes,
        Action<long>? progress, CancellationToken cancellation)
    {
        // SFTP has no delta: the whole file goes, whatever was asked (SftpReplicator plans whole-file transfers).
        string target = SftpPaths.Join(_root, relative);
        (string directory, string name) = SftpPaths.Split(target);
        string temp = directory + "/" + PendingFile.TempName(name);
        long written = 0;
        try
        {
            using SafeFileHandle input = _sources.Open(relative, source);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkLength);
            try
            {
                Write(relative, ErrorIds.FileWriteError, "Cannot write", () =>
                {
                    using Stream output = _sftp.CreateExclusive(temp);
                    while (true)
                    {
                        cancellation.ThrowIfCancellationRequested();
                        int n = RandomAccess.Read(input, buffer.AsSpan(0, ChunkLength), written);
                        if (n == 0)
                        {
                            break;
                        }

                        output.Write(buffer, 0, n);
                        written += n;
                        progress?.Invoke(written);
                    }
                });
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (_sourceMustRest)
            {
                // Read to its end and not yet in place: a file written meanwhile may be torn, and its temp file goes below.
                _sources.CheckRested(relative, source);
            }

            Apply(temp, relative, attributes);
            BackUpExisting(target, relative, cancellation);
            Write(relative, ErrorIds.FileWriteError, "Cannot move into place", () => _sftp.Rename(temp, target));
            if (attributes.Has(AttributeFields.Time) && TraitsOf?.Invoke(relative).RenameKeepsTimes == false)
            {
                // The file system stamped the rename's time on it (fusefat): the time again, on the name now in place.
                Write(relative, ErrorIds.MetadataFailed, "Cannot set the time of", () => _sftp.SetAttributes(target, new SftpAttributeChanges
                {
                    LastWriteTimeUtc = DateTime.UnixEpoch.AddSeconds(attributes.MtimeSeconds),
                }));
            }
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        return new TransferResult(written, written, 0);
    }

    public void CreateSymbolicLink(string relative, string target, AttributeSet attributes, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        string path = SftpPaths.Join(_root, relative);
        (string directory, string name) = SftpPaths.Split(path);
        string temp = directory + "/" + PendingFile.TempName(name);
        try
        {
            Write(relative, ErrorIds.SymbolicLinkFailed, "Cannot create symbolic link", () => _sftp.CreateSymbolicLink(temp, target));
            BackUpExisting(path, relative, cancellation);
            Write(relative, ErrorIds.FileWriteError, "Cannot move into place", () => _sftp.Rename(temp, path));
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>-Preserve HardLinks: hardlink@openssh.com makes the link under a temporary name (link(2) refuses an existing
    /// name), renamed over the target as a file is (a file standing there is replaced, not backed up).</summary>
    public void LinkWithin(string relative, string existing, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        string path = SftpPaths.Join(_root, relative);
        (string directory, string name) = SftpPaths.Split(path);
        string temp = directory + "/" + PendingFile.TempName(name);
        try
        {
            Write(relative, ErrorIds.FileWriteError, "Cannot create the hard link", () => _sftp.CreateHardLink(temp, SftpPaths.Join(_root, existing)));

            // SFTP cannot see that the name is already this link, so each run links it again (the caller backs up only a
            // name whose file the quick check says differs from the source's).
            Write(relative, ErrorIds.FileWriteError, "Cannot move the hard link into place", () => _sftp.Rename(temp, path));

            // A rename between two names of one file does nothing (POSIX): where the name already was this link, the temp
            // name is still there.
            TryDelete(temp);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public void SetAttributes(string relative, AttributeSet attributes, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        Apply(SftpPaths.Join(_root, relative), relative, attributes);
    }

    public void Delete(string relative, bool isDirectory, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        string path = SftpPaths.Join(_root, relative);
        try
        {
            Write(relative, ErrorIds.DeleteFailed, "Cannot delete", () =>
            {
                if (isDirectory)
                {
                    _sftp.DeleteDirectory(path);
                }
                else
                {
                    _sftp.Delete(path);
                }
            });
        }
        catch (SyncException ex) when (ex.InnerException is FileNotFoundException)
        {
            // Already gone: the goal is reached.
        }
    }

    /// <summary>-Backup with a deletion: the file or link is moved to its backup name instead of being removed.</summary>
    public void MoveAside(string relative, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        BackUpExisting(SftpPaths.Join(_root, relative), relative, cancellation);
    }

    /// <summary>-Backup: moves the file or link standing at <paramref name="path"/> to its backup name (server-side rename,
    /// posix-rename where offered, replacing an older backup). Called once the new item is complete under its temp name,
    /// just before that is renamed over <paramref name="path"/>, as rsync backs up at the end of a transfer: a transfer
    /// that fails leaves the old item where it was. A directory, or nothing, there has nothing to back up.</summary>
    private void BackUpExisting(string path, string relative, CancellationToken cancellation)
    {
        if (_backupSuffix is null)
        {
            return;
        }

        cancellation.ThrowIfCancellationRequested();
        string backup = _backupDirectory is null ? path + _backupSuffix : SftpPaths.Join(_backupDirectory, relative) + _backupSuffix;
        try
        {
            if (_sftp.Stat(path) is not { Kind: SftpEntryKind.File or SftpEntryKind.SymbolicLink or SftpEntryKind.Special })
            {
                return;
            }

            if (_backupDirectory is not null)
            {
                MakeBackupDirectories(SftpPaths.Split(backup).Directory, SftpPaths.Split(SftpPaths.Join(_root, relative)).Directory);
            }

            _sftp.Rename(path, backup);
        }
        catch (FileNotFoundException)
        {
            // Gone meanwhile: nothing to keep.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SyncException(ErrorIds.BackupFailed, ex is UnauthorizedAccessException ? SyncErrorKind.PermissionDenied : SyncErrorKind.WriteError,
                $"Cannot back up '{relative}' to '{backup}': {ex.Message} The file was left in place.", relative, ex);
        }
    }

    /// <summary>Makes <paramref name="directory"/> and its missing parents inside the backup directory (the backup
    /// directory itself included, with its own missing parents, as locally). A directory made for one of the destination's
    /// (<paramref name="original"/> and its parents, below the root) takes that one's mode and owner, as rsync's backup
    /// directories do (where the server lets the owner be set).</summary>
    private void MakeBackupDirectories(string directory, string original)
    {
        if (_backupDirectories.ContainsKey(directory))
        {
            return;
        }

        string path = directory.StartsWith('/') ? string.Empty : ".";
        string[] parts = directory.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string[] originals = original.Split('/', StringSplitOptions.RemoveEmptyEntries);
        int below = parts.Length - (originals.Length - _root.Split('/', StringSplitOptions.RemoveEmptyEntries).Length);
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            path = path.Length == 0 ? "/" + part : path + "/" + part;
            if (_backupDirectories.ContainsKey(path) || _sftp.Stat(path) is { Kind: SftpEntryKind.Directory })
            {
                _backupDirectories.TryAdd(path, true);
                continue;
            }

            try
            {
                _sftp.Mkdir(path);
                if (i >= below)
                {
                    TakeAttributesOf(string.Join('/', originals, 0, originals.Length - (parts.Length - 1 - i)), path);
                }
            }
            catch (IOException) when (_sftp.Stat(path) is { Kind: SftpEntryKind.Directory })
            {
                // Made by another worker meanwhile.
            }

            _backupDirectories.TryAdd(path, true);
        }
    }

    private void TakeAttributesOf(string original, string made)
    {
        string full = _root.StartsWith('/') && !original.StartsWith('/') ? "/" + original : original;
        if (_sftp.Stat(full) is not { Kind: SftpEntryKind.Directory } directory)
        {
            return;
        }

        try
        {
            _sftp.SetAttributes(made, new SftpAttributeChanges { UserId = directory.UserId, GroupId = directory.GroupId });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not the owner's to give (a user other than root): the directory stays the user's, as rsync leaves it.
        }

        _sftp.SetAttributes(made, new SftpAttributeChanges { Mode = directory.Mode });
    }

    /// <summary>Owner and group first (chown clears set-user-ID bits), then mode and time: OpenSSH's setstat applies
    /// the mode before the owner within one request.</summary>
    private void Apply(string path, string relative, AttributeSet attributes)
    {
        if (attributes.Fields == AttributeFields.None)
        {
            return;
        }

        bool uid = attributes.Has(AttributeFields.Uid);
        bool gid = attributes.Has(AttributeFields.Gid);
        if (uid || gid)
        {
            Write(relative, ErrorIds.MetadataFailed, "Cannot set the owner of", () => _sftp.SetAttributes(path, new SftpAttributeChanges
            {
                UserId = uid ? (int)attributes.Uid : null,
                GroupId = gid ? (int)attributes.Gid : null,
            }));
        }

        bool mode = attributes.Has(AttributeFields.Mode);
        bool time = attributes.Has(AttributeFields.Time);
        if (time && attributes.MtimeSeconds is < 0 or > uint.MaxValue)
        {
            throw new SyncException(ErrorIds.MetadataFailed, SyncErrorKind.WriteError,
                $"Cannot set the time of '{relative}': SFTP carries times between 1970 and 2106 only.", relative);
        }

        if (mode || time)
        {
            Write(relative, ErrorIds.MetadataFailed, "Cannot set the attributes of", () => _sftp.SetAttributes(path, new SftpAttributeChanges
            {
                Mode = mode ? attributes.Mode : null,
                LastWriteTimeUtc = time ? DateTime.UnixEpoch.AddSeconds(attributes.MtimeSeconds) : null,
            }));
        }
    }

    private void CreateRoot()
    {
        // The destination and its missing parents, as a local run creates them.
        string path = _root.StartsWith('/') ? string.Empty : ".";
        foreach (string part in _root.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path = path.Length == 0 ? "/" + part : path + "/" + part;
            SftpEntry? existing;
            try
            {
                existing = _sftp.Stat(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw CreateFailed(ex);
            }

            if (existing is { Kind: SftpEntryKind.Directory or SftpEntryKind.SymbolicLink })
            {
                continue;
            }

            try
            {
                _sftp.Mkdir(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw CreateFailed(ex);
            }
        }
    }

    private SyncException CreateFailed(Exception ex) =>
        new(ErrorIds.DestinationCreateFailed, SyncErrorKind.WriteError, $"Cannot create the destination '{_root}': {ex.Message}", _root, ex);

    /// <summary>Runs one server operation; a refusal or server error becomes the executor's per-item error.</summary>
    private static void Write(string relative, string errorId, string what, Action operation)
    {
        try
        {
            operation();
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SyncException(ErrorIds.PermissionDenied, SyncErrorKind.PermissionDenied, $"{what} '{relative}': permission denied.", relative, ex);
        }
        catch (Exception ex) when (ex is not (IOException or UnauthorizedAccessException or Renci.SshNet.Common.SftpException)
            && SshFailure.Translate(ex, relative) is SyncException broken)
        {
            // File streams talk to SSH.NET directly: a dropped connection ends the session, not just this item.
            throw broken;
        }
        catch (Exception ex) when (ex is IOException or Renci.SshNet.Common.SftpException)
        {
            // A file stream's server error arrives as SSH.NET's SftpException, the session's as IOException.
            throw new SyncException(errorId, SyncErrorKind.WriteError, $"{what} '{relative}': {ex.Message}", relative, ex);
        }
    }

    private void TryDelete(string path)
    {
        try
        {
            _sftp.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SyncException)
        {
            // Best effort: a leftover temp file is recognised and removed by the next run.
        }
    }
}
