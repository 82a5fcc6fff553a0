namespace PSReplica.Engine.Execution;

/// <summary>Where -Backup keeps a destination file that is about to be replaced or deleted (rsync --backup, --backup-dir,
/// --suffix): beside itself with a suffix, or under the backup directory at its relative path. The backups themselves
/// are made by the receiver (<see cref="Remote.BasisTreeRequests.Backup(Remote.SafeTree, Remote.SafeTree?, string, string, bool, System.Threading.CancellationToken)"/>).</summary>
internal static class BackupMover
{
    /// <summary>The full backup directory, or null when backups stay beside their files. A relative one is relative to
    /// the destination, as in rsync.</summary>
    public static string? BackupDirectoryOf(SyncOptions options, string destinationRoot) =>
        string.IsNullOrEmpty(options.BackupDirectory) ? null
        : Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.IsPathRooted(options.BackupDirectory)
            ? options.BackupDirectory : Path.Join(destinationRoot, options.BackupDirectory)));
}
