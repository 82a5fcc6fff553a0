using System;
using System.IO;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Execution;

/// <summary>-Backup: moves a destination file that is about to be replaced or deleted aside, either next to itself
/// with a suffix or under the backup directory at its relative path (rsync --backup, --backup-dir, --suffix).</summary>
internal sealed class BackupMover
{
    private readonly string? _directory;
    private readonly string _suffix;

    public BackupMover(SyncOptions options, string destinationRoot)
    {
        _directory = BackupDirectoryOf(options, destinationRoot);
        _suffix = options.BackupSuffix ?? (_directory is null ? "~" : string.Empty);
    }

    /// <summary>The full backup directory, or null when backups stay beside their files. A relative one is relative to
    /// the destination, as in rsync.</summary>
    public static string? BackupDirectoryOf(SyncOptions options, string destinationRoot) =>
        string.IsNullOrEmpty(options.BackupDirectory) ? null
        : Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.IsPathRooted(options.BackupDirectory)
            ? options.BackupDirectory : Path.Join(destinationRoot, options.BackupDirectory)));

    /// <summary>-Inplace: copies <paramref name="path"/> to its backup name (mode and time kept), since the file itself is
    /// about to be rewritten, as rsync does for --backup with --inplace.</summary>
    public void CopyAside(string path, string relative)
    {
        string backup = BackupPathOf(path, relative);
        try
        {
            if (_directory is not null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(backup)!);
            }

            File.Copy(path, backup, overwrite: true);
            if (Posix.Stat(path, follow: false, out StatInfo info) == 0)
            {
                _ = Posix.Chmod(backup, info.Permissions);
                _ = Posix.SetModificationTime(backup, info.MtimeSeconds, info.MtimeNanoseconds);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SyncException(ErrorIds.BackupFailed, SyncErrorKind.WriteError,
                $"Cannot back up '{relative}' to '{backup}': {ex.Message} The file was left as it was.", relative, ex);
        }
    }

    private string BackupPathOf(string path, string relative) =>
        _directory is null ? path + _suffix : Path.Join(_directory, relative) + _suffix;

    /// <summary>Renames <paramref name="path"/> to its backup name, replacing an older backup of the same name. The
    /// backup directory's missing parents are created. Across filesystems the file is copied (times and mode kept)
    /// and then removed.</summary>
    public void MoveAside(string path, string relative)
    {
        string backup = BackupPathOf(path, relative);
        if (_directory is not null)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(backup)!);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SyncException(ErrorIds.BackupFailed, SyncErrorKind.WriteError,
                    $"Cannot create the backup directory for '{relative}': {ex.Message}", relative, ex);
            }
        }

        int errno = Posix.Rename(path, backup);
        if (errno == Posix.EXDEV)
        {
            try
            {
                File.Copy(path, backup, overwrite: true);
                if (Posix.Stat(path, follow: false, out StatInfo info) == 0)
                {
                    _ = Posix.Chmod(backup, info.Mode & 0xFFF);
                }

                File.SetLastWriteTimeUtc(backup, File.GetLastWriteTimeUtc(path));
                File.Delete(path);
                errno = 0;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SyncException(ErrorIds.BackupFailed, SyncErrorKind.WriteError,
                    $"Cannot back up '{relative}' to '{backup}': {ex.Message}", relative, ex);
            }
        }

        if (errno != 0 && errno != Posix.ENOENT)
        {
            throw new SyncException(ErrorIds.BackupFailed, errno is Posix.EACCES or Posix.EPERM ? SyncErrorKind.PermissionDenied : SyncErrorKind.WriteError,
                $"Cannot back up '{relative}' to '{backup}': {Posix.Describe(errno)}. The file was left in place.", relative);
        }
    }
}
