namespace PSReplica;

/// <summary>Everything that decides what a run does; built by the cmdlets, read by the planner and executor.</summary>
public sealed record SyncOptions
{
    /// <summary>The source: a directory, whose contents are replicated, or a file (or link, or other non-directory), which
    /// goes into the destination directory under its own name (rsync's <c>SRC/</c> and <c>FILE</c>).</summary>
    public required string Source { get; init; }

    /// <summary>More sources after <see cref="Source"/>, each a directory or a file as <see cref="Source"/> is: all of them
    /// are merged into the destination, as rsync's <c>SRC1/ SRC2/ DEST/</c> merges them (Scanning/SourceSet.cs). Only a
    /// local source can have more.</summary>
    public IReadOnlyList<string> AdditionalSources { get; init; } = [];

    public required string Destination { get; init; }

    public bool Delete { get; init; }

    /// <summary>At most this many deletions; null for no limit (rsync --max-delete).</summary>
    public int? MaxDelete { get; init; }

    public SyncFilter Filter { get; init; } = SyncFilter.Empty;

    /// <summary>-FilesFrom: the listed paths (relative, '/'-separated), each of which must exist in the source: one that a
    /// listed directory of the source does not hold is an error (FilesFromPathMissing), as rsync reports it; null: no list.
    /// An item must be one of them or a parent of one besides being included by <see cref="Filter"/>, so that an include
    /// rule of the user's selects nothing outside the list (rsync sends the listed paths only). <see cref="Filter"/> holds
    /// the same selection after the user's rules (<see cref="OptionNormalizer.ApplyFilesFrom"/>), so that a side walking
    /// the tree with it (an agent) walks no more than the list.</summary>
    public IReadOnlyList<string>? Listed { get; init; }

    /// <summary>Excluded destination items are deleted too (rsync --delete-excluded): rules without an s or r modifier
    /// only decide what is transferred, not what is protected. Deletion needs <see cref="Delete"/>.</summary>
    public bool DeleteExcluded { get; init; }

    public CompareMode CompareMode { get; init; } = CompareMode.QuickCheck;

    /// <summary>Times within this many seconds are equal; 0 (rsync's default) compares whole seconds, -1 nanoseconds too.
    /// Null (not given): whole seconds, or the destination file system's coarser granularity (FAT's 2 s).</summary>
    public int? ModifyWindow { get; init; }

    /// <summary>-IgnoreDaylightSavingShift: times exactly one hour apart (within the destination's granularity) are equal,
    /// as FAT's local-time stamps show them after a daylight-saving change.</summary>
    public bool IgnoreDaylightSavingShift { get; init; }

    /// <summary>The run writes: a destination file system of a type not known may be measured by a probe file there.</summary>
    internal bool MeasureDestination { get; init; }

    /// <summary>Skip files that are newer in the destination (rsync -u).</summary>
    public bool Update { get; init; }

    /// <summary>Skip files that already exist in the destination.</summary>
    public bool IgnoreExisting { get; init; }

    public PreserveOptions Preserve { get; init; } = DefaultPreserve;

    public TransferMode TransferMode { get; init; } = TransferMode.Auto;

    /// <summary>A fixed delta block length instead of rsync's square-root heuristic (rsync -B).</summary>
    public int? BlockSize { get; init; }

    /// <summary>Replace symlinks in the source with what they point to (rsync -L).</summary>
    public bool CopyLinks { get; init; }

    /// <summary>The destination cannot change a symbolic link's own time or owner (SFTP has no lutimes or lchown): links
    /// are compared by target only, as rsync compares them where the receiver cannot set link times.</summary>
    internal bool LinkAttributesFixed { get; init; }

    /// <summary>Directories holding earlier copies (rsync --link-dest): a new file unchanged there becomes a hard link
    /// to it; a changed one uses it as the delta basis. Relative paths are relative to the destination.</summary>
    public IReadOnlyList<string> LinkDest { get; init; } = [];

    /// <summary>Directories whose identical files are not copied at all (rsync --compare-dest).</summary>
    public IReadOnlyList<string> CompareDest { get; init; } = [];

    /// <summary>Directories whose identical files are copied locally instead of from the source (rsync --copy-dest).</summary>
    public IReadOnlyList<string> CopyDest { get; init; } = [];

    /// <summary>Regular files smaller than this many bytes are not transferred (rsync --min-size); null for no limit.</summary>
    public long? MinSize { get; init; }

    /// <summary>Regular files larger than this many bytes are not transferred (rsync --max-size); null for no limit.</summary>
    public long? MaxSize { get; init; }

    /// <summary>-MaxAge: regular files last modified before this instant (UTC) are not transferred (rclone --max-age,
    /// robocopy /MAXAGE); null for no limit. As with <see cref="MinSize"/>, a file left out stays listed: its copy in the
    /// destination is not deleted.</summary>
    public DateTime? MaxAgeCutoff { get; init; }

    /// <summary>-MinAge: regular files last modified after this instant (UTC) are not transferred (rclone --min-age,
    /// robocopy /MINAGE); null for no limit.</summary>
    public DateTime? MinAgeCutoff { get; init; }

    /// <summary>Do not cross file-system boundaries below the roots (rsync -x, --one-file-system): a source directory on
    /// another device than the source root (a mount point, or with <see cref="CopyLinks"/> a link to a directory on another
    /// device) is created empty, with the attributes of the mounted directory, and nothing below it is listed; -Delete
    /// neither deletes inside a destination directory on another device than the destination root nor deletes such a
    /// directory.</summary>
    public bool OneFileSystem { get; init; }

    /// <summary>Source directories with nothing to transfer below them are not created (rsync -m, --prune-empty-dirs):
    /// a directory whose subtree holds no file or symbolic link after the filter (special files are never copied) is left out of the run as if
    /// excluded (so -Delete deletes its copy in the destination, as rsync does); one whose files are all left out by
    /// -MinSize, -MaxSize, -MaxAge or -MinAge is not created either, but an existing copy of it is kept.</summary>
    public bool PruneEmptyDirectories { get; init; }

    /// <summary>Create nothing new in the destination: only items that already exist there are updated (rsync --existing).</summary>
    public bool ExistingOnly { get; init; }

    /// <summary>-ArchiveOnly (robocopy /A): only regular files whose Windows Archive attribute is set are transferred. As
    /// with <see cref="MinSize"/>, a file left out stays listed: its copy in the destination is not deleted by -Delete.
    /// Needs the portable backend on Windows and a local source.</summary>
    public bool ArchiveOnly { get; init; }

    /// <summary>-ResetArchive (robocopy /M): as <see cref="ArchiveOnly"/>, and after the run each selected source file's
    /// Archive attribute is cleared once its copy in the destination is verified (as -RemoveSourceFiles verifies it),
    /// and only while the source is still the file that was copied.</summary>
    public bool ResetArchive { get; init; }

    /// <summary>Only regular files with the Archive attribute are transferred (-ArchiveOnly or -ResetArchive).</summary>
    internal bool SelectsArchive => ArchiveOnly || ResetArchive;

    /// <summary>After the run, remove from the source each non-directory whose copy in the destination was verified
    /// (rsync --remove-source-files).</summary>
    public bool RemoveSourceFiles { get; init; }

    /// <summary>Move each file about to be replaced or deleted aside first (rsync --backup).</summary>
    public bool Backup { get; init; }

    /// <summary>Where -Backup moves files, keeping their relative paths (rsync --backup-dir); relative to the destination.
    /// Null: next to the file, renamed with <see cref="BackupSuffix"/>.</summary>
    public string? BackupDirectory { get; init; }

    /// <summary>Appended to a backed-up file's name (rsync --suffix); null means rsync's default: "~" without a backup
    /// directory, nothing with one.</summary>
    public string? BackupSuffix { get; init; }

    /// <summary>The suffix backups get: <see cref="BackupSuffix"/>, or rsync's default for the backup directory or its absence.</summary>
    internal string EffectiveBackupSuffix => BackupSuffix ?? (string.IsNullOrEmpty(BackupDirectory) ? "~" : string.Empty);

    /// <summary>-Backup: whether deleting the item at <paramref name="relative"/> keeps a backup of it. Not for a name that
    /// already ends in the suffix beside its file (no backup directory): it is a backup itself, deleted as rsync deletes
    /// it, instead of renamed once more with every run (old~~, old~~~).</summary>
    internal bool BacksUpDeletionOf(string relative) =>
        Backup && (!string.IsNullOrEmpty(BackupDirectory) || EffectiveBackupSuffix.Length == 0
            || !relative.EndsWith(EffectiveBackupSuffix, StringComparison.Ordinal));

    /// <summary>Keep a file whose transfer was interrupted under its partial name, and resume from it (as the delta basis)
    /// on the next run (rsync --partial, with the file kept out of sight: see <see cref="PartialDirectory"/>).</summary>
    public bool Partial { get; init; }

    /// <summary>Where -Partial keeps partial files (rsync --partial-dir); implies <see cref="Partial"/>. A relative name is a
    /// directory inside each destination directory, an absolute path is one directory for all. Null: beside the target as
    /// <c>.NAME.psreplica-partial</c>.</summary>
    public string? PartialDirectory { get; init; }

    /// <summary>Put every updated file in place in one burst at the end of the run (rsync --delay-updates).</summary>
    public bool DelayUpdates { get; init; }

    /// <summary>Write updates into the destination file itself, without a temp file (rsync --inplace).</summary>
    public bool Inplace { get; init; }

    /// <summary>Write each new file with holes where whole blocks of it are zeros, and read a local source by its data
    /// extents only (rsync -S, --sparse). Not with <see cref="Inplace"/>, whose rewrite of a file's own blocks cannot
    /// leave holes where the old content stays.</summary>
    public bool Sparse { get; init; }

    /// <summary>Bytes per second a local run may copy (the file data it reads from the source: whole files, or a delta's
    /// literal data), as rsync's --bwlimit limits a local copy too; 0 for no limit. Remote runs pace the wire instead.</summary>
    public long BandwidthLimit { get; init; }

    /// <summary>A reviewed plan to apply (<c>Get-SyncPlan ... | Sync-Directory</c>): only the actions it holds, unchanged
    /// since it was made, are carried out; null runs the whole plan.</summary>
    public ReviewedPlan? Review { get; init; }

    /// <summary>How many files are copied at once (the copy workers, -ThrottleLimit): 1 to
    /// <see cref="Engine.Execution.CopyWorkers.MaxCount"/>; null for the wiring's own number (2 to 8 by processor count on
    /// a local run, 16 over a wire, where each waits on round trips).</summary>
    public int? ThrottleLimit { get; init; }

    /// <summary>The implementation of the local file-system calls (this machine's side of any run): Linux's own calls on
    /// Linux, the portable System.IO backend elsewhere or where PSREPLICA_FILESYSTEM=portable.</summary>
    public Engine.Native.FileSystemBackendKind FileSystem { get; init; } = Engine.Native.FileSystemBackend.Default;

    /// <summary>-Watch: a local source file that was written while it was copied is not put in place
    /// (SourceChangedSinceListing): its write is a change the watch sees, and it is copied again once it rests.</summary>
    internal bool SourceMustRest { get; init; }

    /// <summary>-Watch's catch-up after a lost connection: directories' times are compared to the destination's granularity
    /// (nanoseconds where it keeps them) instead of whole seconds. A batch cut off between its last item and its
    /// directories' times leaves them as the writes inside made them, most often in the same second as the source's, where
    /// the whole-second comparison (rsync's, kept for every other run) would never see them. Files are not affected: their
    /// times are set before they are put in place.</summary>
    internal bool ExactDirectoryTimes { get; init; }

    /// <summary>Directories' times are neither compared nor set (a new one keeps the time it was made): rsync's -b without
    /// --backup-dir implies --omit-dir-times, and <see cref="OptionNormalizer.ApplyBackups"/> sets this for -Backup without
    /// -BackupDirectory as it does.</summary>
    internal bool OmitDirectoryTimes { get; init; }

    /// <summary>-Watch: what a batch of changes plans again; null (every other run) plans the whole tree.</summary>
    internal Engine.Planning.PlanScope? Scope { get; init; }

    /// <summary>The extended attributes and ACLs -Preserve asks for (as the process running the run sees its privilege).</summary>
    internal Engine.Metadata.XattrScope XattrScope => Engine.Metadata.XattrScopes.For(Preserve, Engine.Native.Posix.IsElevated);

    /// <summary>True when partial files are kept (-Partial or -PartialDirectory).</summary>
    internal bool KeepsPartial => Partial || !string.IsNullOrEmpty(PartialDirectory);

    /// <summary>rsync -a: times, permissions and links, plus owner and group when running as root (not on the portable
    /// backend, which cannot set owners).</summary>
    public static PreserveOptions DefaultPreserve =>
        PreserveOptions.Times | PreserveOptions.Permissions | PreserveOptions.Links
        | (Engine.Native.Posix.IsElevated && Engine.Native.FileSystemBackend.Default == Engine.Native.FileSystemBackendKind.Linux
            ? PreserveOptions.Owner | PreserveOptions.Group : PreserveOptions.None);

    /// <summary>The file-system backend the environment asks for (PSREPLICA_FILESYSTEM: unset for the platform's own,
    /// "portable", or "linux" on Linux); null with the reason when it names none that runs here.</summary>
    public static Engine.Native.FileSystemBackendKind? FileSystemFromEnvironment(out string? error) =>
        Engine.Native.FileSystemBackend.FromEnvironment(out error);
}
