using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;

namespace PSReplica;

/// <summary>Local-to-local replication: validates the roots (each source against the destination), plans, and executes.
/// Setup failures are thrown as <see cref="SyncException"/> before anything is touched; per-item failures go to the
/// observer.</summary>
public static class LocalReplicator
{
    /// <summary>What a run between two local trees honours on Linux's calls: every option but Windows' file attributes
    /// (the receiver and the sender run here, on the file system's own calls).</summary>
    internal static DestinationCapabilities Capabilities { get; } = new()
    {
        Wiring = "the Linux file-system backend",
        HardLinks = true,
        Backups = true,
        BasisDirectories = true,
        PartialFiles = true,
        DelayUpdates = true,
        Inplace = true,
        Sparse = true,
        SourceRemoval = true,
        DeltaTransfer = true,
        Checksums = true,
        BasisChecksums = true,
        SubsecondTimes = true,
        Owners = true,
        FilterFiles = true,
        CopyLinks = true,
        OneFileSystem = true,
        DestinationMountPoints = true,
        ExtendedAttributes = true,
        Specials = true,
    };

    /// <summary>What a local run honours on the portable backend: System.IO tells no inode and no device, so hard links
    /// in a source are not recognised and mount points not seen; it has no extended attributes or ACLs. Owners are a
    /// trait of its file systems instead (held nowhere: one warning where -Preserve asks for them). Windows' file attributes
    /// (-Preserve Attributes, -ArchiveOnly, -ResetArchive) where the platform holds them (<see cref="FileAttributeStore"/>:
    /// Windows, or a test's store).</summary>
    internal static DestinationCapabilities PortableCapabilities => FileAttributeStore.Available ? s_portableWithAttributes : s_portable;

    private static readonly DestinationCapabilities s_portable = Capabilities with
    {
        Wiring = "the portable file-system backend",
        HardLinks = false,
        OneFileSystem = false,
        DestinationMountPoints = false,
        ExtendedAttributes = false,

        // System.IO sees a device, FIFO or socket as an empty file; on Linux the portable backend asks the kernel its type
        // and number and makes it by mknod (by path). Elsewhere there are none to replicate.
        Specials = OperatingSystem.IsLinux(),
    };

    private static readonly DestinationCapabilities s_portableWithAttributes = s_portable with
    {
        FileAttributes = true,
        ArchiveAttribute = true,
    };

    /// <summary>What the local side of a run honours on <paramref name="backend"/>.</summary>
    internal static DestinationCapabilities For(FileSystemBackendKind backend) =>
        backend == FileSystemBackendKind.Portable ? PortableCapabilities : Capabilities;

    /// <summary>What the local side of a remote run honours on <paramref name="backend"/>, the other side being
    /// <paramref name="remote"/>: what only the remote side does is not asked of it (-OneFileSystem's walk is the sender's;
    /// its stop at the destination's mount points for -Delete is the receiver's).</summary>
    internal static DestinationCapabilities ForLocalSide(FileSystemBackendKind backend, RemoteSide remote) => remote == RemoteSide.Source
        ? For(backend) with { OneFileSystem = true }
        : For(backend) with { DestinationMountPoints = true };

    /// <summary>Scans both trees and returns what would be done; changes nothing.</summary>
    public static SyncPlan Plan(SyncOptions options, ISyncObserver observer, CancellationToken cancellation) =>
        Plan(options, observer, stream: false, cancellation);

    /// <param name="stream">Plan on a thread of its own, the plan to be run while it is made, where the options allow
    /// (<see cref="SyncPlanner.CanStream(SyncOptions, SourceSet)"/>).</param>
    internal static SyncPlan Plan(SyncOptions options, ISyncObserver observer, bool stream, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(observer);
        Validate(options);
        For(options.FileSystem).Check(options);
        using FileSystemBackend.Scope backend = FileSystemBackend.Use(options.FileSystem);
        options = PartialFiles.Prepare(options);
        (SourceSet sources, string destination, FileEntry? existing) = ResolveRoots(options);
        options = Engine.Metadata.XattrSupport.Narrow(options, existing is null ? Path.GetDirectoryName(destination) : destination, observer);
        return PrefetchingTreeLister.ForLocalRun(options, cancellation).Plan((ahead, aheadDestination) => stream && SyncPlanner.CanStream(options, sources)
            ? SyncPlanner.Stream(options, sources, destination, existing, observer, cancellation, ahead, aheadDestination)
            : SyncPlanner.Build(options, sources, destination, existing, observer, cancellation, ahead, aheadDestination));
    }

    /// <summary>Carries out a plan made by <see cref="Plan"/>. With <paramref name="dryRun"/>, reports each action that
    /// would run (after -MaxDelete and the no-deletion-after-I/O-error rule) and changes nothing.</summary>
    public static SyncSummary Execute(SyncPlan plan, ISyncObserver observer, CancellationToken cancellation, bool dryRun = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(observer);
        using FileSystemBackend.Scope backend = FileSystemBackend.Use(plan.Options.FileSystem);
        return PlanRunner.Run(plan, observer, dryRun, cancellation);
    }

    /// <summary>Plans and executes in one call: the actions run while the rest of the tree is planned (rsync's incremental
    /// recursion), so memory holds a window of the plan, not all of it.</summary>
    public static SyncSummary Run(SyncOptions options, ISyncObserver observer, CancellationToken cancellation, bool dryRun = false)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        SyncSummary summary = Execute(Plan(options with { MeasureDestination = !dryRun }, observer, stream: true, cancellation), observer, cancellation, dryRun);
        summary.Duration = SyncSummary.Seconds(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return summary;
    }

    /// <summary>Sync-Directory -Watch: a first full sync, then one sync of what changed per settled batch of the source's
    /// change notifications (inotify on the Linux backend, FileSystemWatcher on the portable one), each with
    /// <paramref name="retryCount"/> retries, until <paramref name="cancellation"/> is cancelled
    /// (OperationCanceledException) or the watch cannot go on (a SyncException: the source root vanished).</summary>
    public static void Watch(SyncOptions options, Engine.Watching.WatchSettings settings, ISyncObserver observer, int retryCount, TimeSpan retryDelay,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        Engine.Watching.WatchLoop.Run(options, settings, observer,
            (batch, batchObserver) =>
            {
                string destination = Path.TrimEndingDirectorySeparator(Path.GetFullPath(batch.Destination));
                if (batch.Scope is { Moves.Count: > 0 } && ResolveDestination(destination) is not null)
                {
                    string root = CanonicalDestination(destination);
                    using FileSystemBackend.Scope backend = FileSystemBackend.Use(batch.FileSystem);
                    Engine.Watching.DirectoryMoves.Apply(batch, new Engine.Watching.DirectoryMoves.Local(root), root, batchObserver, cancellation);
                }

                return RetryingRun.Run(attempt => Run(batch, attempt, cancellation), batchObserver, retryCount, retryDelay, cancellation);
            },
            root => Engine.Watching.TreeWatcher.Start(options.FileSystem, root), cancellation);
    }

    internal static void Validate(SyncOptions options)
    {
        if (options.ModifyWindow < -1)
        {
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                "ModifyWindow must be -1 (nanoseconds), 0 (whole seconds) or more seconds.", options.ModifyWindow.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (options.BlockSize is { } block && (block < Engine.Delta.BlockSizing.MinimumForcedBlockLength || block > Engine.Delta.BlockSizing.MaxBlockLength))
        {
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                $"BlockSize must be between {Engine.Delta.BlockSizing.MinimumForcedBlockLength} and {Engine.Delta.BlockSizing.MaxBlockLength} bytes.",
                block.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (options.ThrottleLimit is < 1 or > CopyWorkers.MaxCount)
        {
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                $"ThrottleLimit must be between 1 and {CopyWorkers.MaxCount} copy workers.",
                options.ThrottleLimit.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (options.Sparse && options.Inplace)
        {
            // rsync 3 takes both and writes the zeros in place; PSReplica refuses rather than quietly write no holes.
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                "-Sparse cannot be combined with -Inplace: an in-place rewrite writes over the file's own blocks, where zeros "
                + "cannot become holes without punching them out of the old content; use -Sparse alone (each file is written anew).", "Sparse");
        }

        if (options.MaxDelete is < 0)
        {
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                "MaxDelete must be zero or more.", options.MaxDelete.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (options.MaxAgeCutoff > options.MinAgeCutoff)
        {
            // Files would have to be modified after the first instant and before the second: none can be.
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                $"-MaxAge selects files modified since {options.MaxAgeCutoff:u} and -MinAge files modified up to {options.MinAgeCutoff:u}: "
                + "no file can be both. -MaxAge must be the longer age (the earlier point in time).", "MinAge");
        }
    }

    private static (SourceSet Sources, string Destination, FileEntry? Existing) ResolveRoots(SyncOptions options)
    {
        SourceSet sources = SourceSet.Resolve(options);
        string destination = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Destination));
        FileEntry? existing = ResolveDestination(destination);
        string realDestination = CanonicalDestination(destination);
        foreach (SourceSet.Member member in sources.Members)
        {
            CheckApart(member, realDestination, destination);
        }

        // The destination is written through its canonical path: a symlinked root is followed once, here, and never again.
        return (sources, existing is null ? destination : realDestination, existing);
    }

    /// <summary>Refuses a source and a destination that overlap: the same directory, or one inside the other. A named file
    /// is where it is named (its directory's links resolved, not its own: a link is sent as a link).</summary>
    private static void CheckApart(SourceSet.Member member, string realDestination, string destination)
    {
        string source = member.Path;
        string realSource = member.Entry.IsDirectory ? Posix.RealPath(source, out _) ?? source
            : Path.Join(Posix.RealPath(member.Directory, out _) ?? member.Directory, Path.GetFileName(source));
        if (realSource == realDestination)
        {
            throw new SyncException(ErrorIds.SameSourceAndDestination, SyncErrorKind.InvalidArgument,
                $"The source and the destination are the same directory ('{realSource}').", destination);
        }

        if (IsInside(realDestination, realSource))
        {
            throw new SyncException(ErrorIds.DestinationInsideSource, SyncErrorKind.InvalidArgument,
                $"The destination '{destination}' is inside the source '{source}'; the replica would copy itself.", destination);
        }

        if (IsInside(realSource, realDestination))
        {
            throw new SyncException(ErrorIds.SourceInsideDestination, SyncErrorKind.InvalidArgument,
                $"The source '{source}' is inside the destination '{destination}'; replicating would overwrite or delete the source.", destination);
        }
    }

    /// <summary>The local destination root's entry (a full path), or null when it does not exist yet.</summary>
    internal static FileEntry? ResolveDestination(string destination)
    {
        FileEntry? existing = DirectoryLister.Stat(destination, Path.GetFileName(destination), follow: true, out int errno);
        if (existing is not null && !existing.IsDirectory)
        {
            throw new SyncException(ErrorIds.DestinationNotDirectory, SyncErrorKind.InvalidArgument,
                $"The destination '{destination}' exists and is not a directory.", destination);
        }

        return existing;
    }

    /// <summary>The destination with symlinks resolved as far as it exists; the missing tail is appended as given.</summary>
    internal static string CanonicalDestination(string destination)
    {
        string existing = destination;
        string tail = string.Empty;
        while (true)
        {
            string? real = Posix.RealPath(existing, out _);
            if (real is not null)
            {
                return tail.Length == 0 ? real : Path.Join(real, tail);
            }

            string? parent = Path.GetDirectoryName(existing);
            if (parent is null)
            {
                return destination;
            }

            tail = tail.Length == 0 ? Path.GetFileName(existing) : Path.Join(Path.GetFileName(existing), tail);
            existing = parent;
        }
    }

    private static bool IsInside(string path, string root) =>
        path.Length > root.Length && path.StartsWith(root, StringComparison.Ordinal) && (root == "/" || path[root.Length] == '/');
}
