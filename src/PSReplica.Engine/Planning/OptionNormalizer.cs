namespace PSReplica;

/// <summary>What some options imply for the others, applied once to the options a caller gathered, so that every
/// caller (the cmdlets, a test) gets the same run: -FilesFrom selects exactly the listed paths and turns deletion off;
/// backups imply -Backup and are protected from -Delete. Warnings go back to the caller, which decides how to show them.</summary>
public static class OptionNormalizer
{
    /// <summary>Selects exactly the paths listed in <paramref name="listPath"/> (rsync --files-from): their include rules
    /// come after the rules already in <paramref name="options"/>, so those rules' excludes still apply to listed paths,
    /// and everything unlisted is excluded, also what those rules include; each listed path must exist
    /// (<see cref="SyncOptions.Listed"/>). Nothing is deleted, as with rsync, which does not
    /// recurse for --files-from; a requested -Delete is dropped with a warning.</summary>
    /// <param name="warnings">Receives what the caller should tell the user.</param>
    /// <exception cref="SyncException">FilesFromUnreadable, or InvalidFilterPattern for a listed name.</exception>
    public static SyncOptions ApplyFilesFrom(SyncOptions options, string listPath, ICollection<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(listPath);
        ArgumentNullException.ThrowIfNull(warnings);
        if (options.Delete || options.DeleteExcluded)
        {
            warnings.Add("-FilesFrom transfers the listed paths without recursing; nothing is deleted (as with rsync --files-from).");
        }

        IReadOnlyList<string> listed = FilesFromList.Read(listPath);
        SyncFilter filter = FilesFromList.AddSelection(new SyncFilterBuilder().Add(options.Filter), listed).Build();
        return options with { Filter = filter, Listed = listed, Delete = false };
    }

    /// <summary>-Backup, -BackupDirectory (which implies -Backup, as in rsync) and -BackupSuffix. With -Delete, what the
    /// backups leave in the destination is protected from deletion as rsync protects it: backups beside their files by a
    /// 'P *SUFFIX' rule, a backup directory inside the destination by a rule anchored at its path. A backup directory
    /// outside the destination needs no rule, and -DeleteExcluded deletes what rules protect anyway.</summary>
    /// <param name="backupDirectory">Absolute, or relative to the destination; for a remote destination a path on its host.</param>
    /// <returns><paramref name="options"/> itself when no backup is asked for.</returns>
    /// <exception cref="SyncException">InvalidBackupOptions for an empty suffix without a backup directory.</exception>
    public static SyncOptions ApplyBackups(SyncOptions options, bool backup, string? backupDirectory, string? backupSuffix)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!backup && backupDirectory is null)
        {
            return options;
        }

        if (backupDirectory is null && backupSuffix is { Length: 0 })
        {
            throw new SyncException(ErrorIds.InvalidBackupOptions, SyncErrorKind.InvalidArgument,
                "-BackupSuffix cannot be empty without -BackupDirectory: the backup would take the file's own name.");
        }

        // As rsync: -b without --backup-dir implies --omit-dir-times.
        options = options with { Backup = true, BackupDirectory = backupDirectory, BackupSuffix = backupSuffix, OmitDirectoryTimes = backupDirectory is null };
        if (!options.Delete || options.DeleteExcluded)
        {
            return options;
        }

        string? full = backupDirectory is null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(
            Path.IsPathRooted(backupDirectory) ? backupDirectory : Path.Join(options.Destination, backupDirectory)));
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Destination));
        string? protect = full is null ? "P *" + (backupSuffix ?? "~")
            : full.StartsWith(root + "/", StringComparison.Ordinal) ? "P /" + full[(root.Length + 1)..] + "/"
            : null;
        return protect is null ? options : options with { Filter = new SyncFilterBuilder().Add(options.Filter).AddRule(protect).Build() };
    }
}
