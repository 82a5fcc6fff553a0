namespace PSReplica;

/// <summary>The stable ErrorIds of every error and warning record the module writes; tests assert on them.</summary>
public static class ErrorIds
{
    public const string SourceNotFound = nameof(SourceNotFound);
    public const string SourceUnreadable = nameof(SourceUnreadable);
    public const string SourceNotDirectory = nameof(SourceNotDirectory);

    /// <summary>No longer written: several sources (wildcards, several -Path values) are merged now. Kept so that scripts
    /// that name it still find it.</summary>
    public const string SourceAmbiguous = nameof(SourceAmbiguous);

    /// <summary>Several sources hold the same relative path, and not all of them as a directory (two files, or a file and a
    /// directory): which one the destination gets would be a guess. Directories of one name merge instead. Terminating,
    /// before anything is touched; an excluded name clashes with nothing.</summary>
    public const string SourceNameClash = nameof(SourceNameClash);

    public const string DestinationNotDirectory = nameof(DestinationNotDirectory);

    /// <summary>Two source names of one directory fold to one name on a case-insensitive destination file system (FAT,
    /// exFAT, NTFS on Windows, APFS, SMB): an error per pair, naming both, and neither is written.</summary>
    public const string CaseCollision = nameof(CaseCollision);

    /// <summary>A source name is longer than the destination's file system takes: that item is not written.</summary>
    public const string NameTooLong = nameof(NameTooLong);

    /// <summary>A source name Windows does not allow (one of &lt; &gt; : " / \ | ? * or a control character, a trailing
    /// dot or space, a device name such as CON or NUL.txt) to a destination file system that follows Windows' rules (FAT,
    /// exFAT, NTFS): an error per item, and that item (a directory with all it holds) is not written.</summary>
    public const string ForbiddenName = nameof(ForbiddenName);

    /// <summary>A symbolic link to a destination file system that cannot hold links (FAT, exFAT): one error per link,
    /// nothing tried (-CopyLinks copies what links point to instead).</summary>
    public const string SymbolicLinkUnsupported = nameof(SymbolicLinkUnsupported);

    /// <summary>No -Destination was given (nor a Destination property on a piped row).</summary>
    public const string DestinationMissing = nameof(DestinationMissing);
    public const string DestinationCreateFailed = nameof(DestinationCreateFailed);
    public const string SameSourceAndDestination = nameof(SameSourceAndDestination);
    public const string DestinationInsideSource = nameof(DestinationInsideSource);
    public const string SourceInsideDestination = nameof(SourceInsideDestination);
    public const string InvalidFilterPattern = nameof(InvalidFilterPattern);
    public const string InvalidParameterCombination = nameof(InvalidParameterCombination);

    /// <summary>PSREPLICA_FILESYSTEM names no file-system backend that runs here (it takes "portable", or "linux" on
    /// Linux): nothing is touched.</summary>
    public const string InvalidFileSystemBackend = nameof(InvalidFileSystemBackend);

    /// <summary>A reviewed plan that cannot be applied: an item without its plan, or a plan whose command line is not one
    /// Get-SyncPlan command of literal values.</summary>
    public const string PlanInvalid = nameof(PlanInvalid);

    /// <summary>A reviewed item that changed since the plan was made: skipped with a warning, never applied.</summary>
    public const string PlanStale = nameof(PlanStale);

    /// <summary>-LogPath names a file that cannot be opened for appending.</summary>
    public const string LogFileUnwritable = nameof(LogFileUnwritable);
    public const string ScanError = nameof(ScanError);

    /// <summary>A name that is not valid UTF-8 where the wiring cannot hold it as bytes (the portable file-system
    /// backend, SFTP): reported, never skipped silently.</summary>
    public const string NameNotRepresentable = nameof(NameNotRepresentable);
    public const string DeletionSkippedAfterIoError = nameof(DeletionSkippedAfterIoError);
    public const string MaxDeleteExceeded = nameof(MaxDeleteExceeded);
    public const string PermissionDenied = nameof(PermissionDenied);
    public const string SourceVanished = nameof(SourceVanished);
    public const string FileReadError = nameof(FileReadError);
    public const string FileWriteError = nameof(FileWriteError);
    public const string DeleteFailed = nameof(DeleteFailed);
    public const string MetadataFailed = nameof(MetadataFailed);
    public const string SymbolicLinkFailed = nameof(SymbolicLinkFailed);
    public const string SymbolicLinkNoReferent = nameof(SymbolicLinkNoReferent);

    /// <summary>A device, FIFO or socket could not be made (-Preserve Devices, Specials): a device needs root (CAP_MKNOD)
    /// at the destination.</summary>
    public const string SpecialFileFailed = nameof(SpecialFileFailed);
    public const string CannotReplaceNonEmptyDirectory = nameof(CannotReplaceNonEmptyDirectory);

    /// <summary>-IgnoreExisting: a file, link or node stands where the source has a directory; it is kept, and nothing in
    /// the directory is written.</summary>
    public const string ExistingItemKept = nameof(ExistingItemKept);
    public const string DeltaStreamInvalid = nameof(DeltaStreamInvalid);
    public const string DeltaVerificationFailed = nameof(DeltaVerificationFailed);

    // Filter rules and merge files.
    /// <summary>A filter rule (inline, in a merge file or in a per-directory file) is malformed.</summary>
    public const string InvalidFilterRule = nameof(InvalidFilterRule);

    /// <summary>A merge file, exclude-from/include-from file or .gitignore named by a rule or parameter cannot be read.</summary>
    public const string FilterFileUnreadable = nameof(FilterFileUnreadable);

    // Backups, basis directories and partial files.
    /// <summary>-LinkDest, -CompareDest and -CopyDest were mixed (rsync refuses that too), or more than 20 directories were given.</summary>
    public const string InvalidBasisDirectories = nameof(InvalidBasisDirectories);

    /// <summary>-Backup could not move a file aside (nor create the backup directory); the file is neither replaced nor deleted.</summary>
    public const string BackupFailed = nameof(BackupFailed);

    /// <summary>-BackupSuffix is empty without -BackupDirectory (the backup would replace the file), or the remote agent is too old to keep backups.</summary>
    public const string InvalidBackupOptions = nameof(InvalidBackupOptions);

    /// <summary>-MinSize or -MaxSize is not a size (bytes, or a number with K, M, G, T or P).</summary>
    public const string InvalidSize = nameof(InvalidSize);

    /// <summary>-MaxAge or -MinAge is not an age (a duration such as 7d or a TimeSpan) or a point in time, or is negative.</summary>
    public const string InvalidAge = nameof(InvalidAge);

    /// <summary>-SettleTime or -RescanInterval is not a length of time (a duration such as 250ms or a TimeSpan).</summary>
    public const string InvalidDuration = nameof(InvalidDuration);

    /// <summary>The -FilesFrom list cannot be read.</summary>
    public const string FilesFromUnreadable = nameof(FilesFromUnreadable);

    /// <summary>A path listed in -FilesFrom (or a directory on its way) does not exist in the source.</summary>
    public const string FilesFromPathMissing = nameof(FilesFromPathMissing);

    /// <summary>-RemoveSourceFiles met a source file that is its own destination copy (the paths overlap); it is kept.</summary>
    public const string SourceIsDestination = nameof(SourceIsDestination);

    /// <summary>A relative -PartialDirectory is not a single directory name, or an absolute one is the destination itself.</summary>
    public const string InvalidPartialDirectory = nameof(InvalidPartialDirectory);

    /// <summary>A partial directory cannot be created or is not a real directory (a file or a symbolic link stands there);
    /// the file is transferred without keeping a partial copy.</summary>
    public const string PartialDirectoryUnusable = nameof(PartialDirectoryUnusable);

    /// <summary>-DelayUpdates could not move a finished file into place at the end of the run; it stays under its temporary
    /// (or partial) name.</summary>
    public const string DelayedUpdateFailed = nameof(DelayedUpdateFailed);

    /// <summary>A source item is no longer what the scan listed. A local source file about to be copied (or read to verify
    /// a -RemoveSourceFiles copy) is another file (a new inode), not a regular file, a symbolic link, or reached through a
    /// link or non-directory swapped in on its path: nothing of it is copied (an error for that item; CVE-2024-12747).
    /// -RemoveSourceFiles with a remote source: the agent found the source file changed (or not a file or link) since it
    /// was listed; it is kept (a warning).</summary>
    public const string SourceChangedSinceListing = nameof(SourceChangedSinceListing);

    // -Watch.
    /// <summary>-Watch: the watched source root itself was deleted, moved away or unmounted (or its file system's watch
    /// was dropped): the watch ends with this error, since every path it would report is relative to a root that is no
    /// longer there.</summary>
    public const string WatchRootLost = nameof(WatchRootLost);

    /// <summary>-Watch: no watch could be set up on the source root (the user's inotify limits
    /// /proc/sys/fs/inotify/max_user_instances or max_user_watches are reached): the watch does not start.</summary>
    public const string WatchUnavailable = nameof(WatchUnavailable);


    // SSH connections and host keys.
    public const string InvalidRemotePath = nameof(InvalidRemotePath);
    public const string SshConfigInvalid = nameof(SshConfigInvalid);
    public const string HostKeyUnknown = nameof(HostKeyUnknown);
    public const string HostKeyMismatch = nameof(HostKeyMismatch);
    public const string HostKeyRevoked = nameof(HostKeyRevoked);
    public const string KnownHostsUnwritable = nameof(KnownHostsUnwritable);
    public const string SshKeyUnusable = nameof(SshKeyUnusable);
    public const string SshAuthenticationFailed = nameof(SshAuthenticationFailed);
    public const string SshConnectionFailed = nameof(SshConnectionFailed);
    public const string SshConnectionTimeout = nameof(SshConnectionTimeout);
    public const string SshCommandFailed = nameof(SshCommandFailed);

    // The agent and its protocol.
    public const string ProtocolVersionMismatch = nameof(ProtocolVersionMismatch);
    public const string ProtocolViolation = nameof(ProtocolViolation);
    public const string FrameTooLarge = nameof(FrameTooLarge);
    public const string UnsafePath = nameof(UnsafePath);
    public const string PeerTimeout = nameof(PeerTimeout);
    public const string AgentFailed = nameof(AgentFailed);
    public const string ConnectionLost = nameof(ConnectionLost);
}
