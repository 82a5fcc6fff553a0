using PSReplica.Engine.Client;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica.Ssh;

/// <summary>
/// Replication between a local tree and a server's tree reached over SFTP alone: the fallback for servers where no
/// PSReplica agent can run. The planner and the executor are the local ones, with the server's side listed by SFTP
/// readdir/lstat and written or read through SFTP requests, so items, summary, progress, -WhatIf and errors are those
/// of any other run. What SFTP cannot do: delta transfer (changed files go whole), content checksums (-Checksum, and
/// the verification -RemoveSourceFiles needs), sub-second times (version 3 carries whole seconds), link counts, and a
/// symbolic link's own time and owner on the server. What it can do on the server besides: hard links
/// (hardlink@openssh.com) and backups (renames). <see cref="CapabilitiesOf"/> says which options that leaves.
/// </summary>
public sealed class SftpReplicator
{
    private readonly SftpSession _sftp;
    private readonly SftpTreeLister _lister;
    private readonly FileEntry? _rootEntry;

    private SftpReplicator(SftpSession sftp, RemoteSide side, string root, SftpEntry? rootEntry)
    {
        _sftp = sftp;
        Side = side;
        RemoteRoot = root;
        _lister = new SftpTreeLister(sftp, root);
        _rootEntry = rootEntry is null ? null : _lister.Root(rootEntry);
    }

    public RemoteSide Side { get; }

    /// <summary>What this session can honour; checked by <see cref="Plan"/> and <see cref="Execute"/>.</summary>
    internal DestinationCapabilities Capabilities => CapabilitiesOf(Side, _sftp.OffersHardLinks);

    /// <summary>The server's root of the run: absolute, a linked root resolved to the directory it names.</summary>
    public string RemoteRoot { get; }

    /// <summary>Finds the server's root (a pull's source must be a directory; a push's destination a directory or
    /// missing).</summary>
    /// <exception cref="SyncException">SourceNotFound, SourceNotDirectory, SourceUnreadable, DestinationNotDirectory,
    /// DestinationCreateFailed, or the connection's failure.</exception>
    public static SftpReplicator Open(SftpSession sftp, RemoteSide side, string remoteRoot)
    {
        ArgumentNullException.ThrowIfNull(sftp);
        ArgumentException.ThrowIfNullOrEmpty(remoteRoot);
        string root = remoteRoot.Length > 1 ? remoteRoot.TrimEnd('/') : remoteRoot;
        try
        {
            SftpEntry? entry = sftp.Stat(root);
            if (entry is { Kind: SftpEntryKind.SymbolicLink })
            {
                // A linked root is followed once, here, as a local root is; never below it.
                root = sftp.ResolvePath(root);
                entry = sftp.Stat(root);
            }
            else if (!root.StartsWith('/'))
            {
                root = entry is null ? SftpPaths.Join(sftp.WorkingDirectory, root) : sftp.ResolvePath(root);
            }

            if (side == RemoteSide.Source)
            {
                if (entry is null)
                {
                    throw new SyncException(ErrorIds.SourceNotFound, SyncErrorKind.NotFound, $"The source '{remoteRoot}' does not exist.", remoteRoot);
                }

                if (entry.Kind != SftpEntryKind.Directory)
                {
                    throw new SyncException(ErrorIds.SourceNotDirectory, SyncErrorKind.InvalidArgument,
                        $"The source '{remoteRoot}' is not a directory; Sync-Directory replicates a directory's contents.", remoteRoot);
                }
            }
            else if (entry is not null && entry.Kind != SftpEntryKind.Directory)
            {
                throw new SyncException(ErrorIds.DestinationNotDirectory, SyncErrorKind.InvalidArgument,
                    $"The destination '{remoteRoot}' exists and is not a directory.", remoteRoot);
            }

            return new SftpReplicator(sftp, side, root, entry);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SyncException(side == RemoteSide.Source ? ErrorIds.SourceUnreadable : ErrorIds.DestinationCreateFailed,
                ex is UnauthorizedAccessException ? SyncErrorKind.PermissionDenied : SyncErrorKind.ReadError,
                $"Cannot read '{remoteRoot}' over SFTP: {ex.Message}", remoteRoot, ex);
        }
    }

    /// <summary>Scans both trees and returns what would be done; changes nothing.</summary>
    /// <exception cref="SyncException">InvalidParameterCombination for what SFTP cannot do; UnsafePath when the
    /// server's listing holds a name that is not one safe component.</exception>
    public SyncPlan Plan(SyncOptions options, ISyncObserver observer, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(observer);
        LocalReplicator.Validate(options);
        Capabilities.Check(options);
        LocalReplicator.ForLocalSide(options.FileSystem, Side).Check(options);
        using Engine.Native.FileSystemBackend.Scope backend = Engine.Native.FileSystemBackend.Use(options.FileSystem);

        // Whole files only: the executor must never ask the server's side for a delta.
        options = options with { TransferMode = TransferMode.WholeFile, LinkAttributesFixed = Side == RemoteSide.Destination };
        var watch = new SessionErrorWatch(observer);
        SyncPlan plan;
        if (Side == RemoteSide.Destination)
        {
            plan = SyncPlanner.Build(options, SourceSet.Resolve(options), RemoteRoot, _rootEntry, watch, cancellation, sourceLister: null,
                destinationLister: _lister, remoteDestination: true);
        }
        else
        {
            if (options.AdditionalSources.Count > 0)
            {
                throw RemoteReplicator.SeveralRemoteSources(options);
            }

            FileEntry source = _rootEntry ?? throw new SyncException(ErrorIds.SourceNotFound, SyncErrorKind.NotFound,
                $"The source '{RemoteRoot}' does not exist.", RemoteRoot);
            string destination = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Destination));
            FileEntry? existing = LocalReplicator.ResolveDestination(destination);
            string root = existing is null ? destination : LocalReplicator.CanonicalDestination(destination);
            plan = SyncPlanner.Build(options, source, root, existing, watch, cancellation, sourceLister: _lister, destinationLister: null);
        }

        ThrowIfFaulted(watch);
        return plan;
    }

    /// <summary>Carries out a plan made by <see cref="Plan"/>; <paramref name="dryRun"/> as for <see cref="LocalReplicator.Execute"/>.</summary>
    public SyncSummary Execute(SyncPlan plan, ISyncObserver observer, CancellationToken cancellation, bool dryRun = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(observer);
        Capabilities.Check(plan.Options);
        using Engine.Native.FileSystemBackend.Scope backend = Engine.Native.FileSystemBackend.Use(plan.Options.FileSystem);
        var watch = new SessionErrorWatch(observer);
        using SourceFiles? sources = Side == RemoteSide.Destination ? new SourceFiles(plan.SourceRoots, plan.Options.CopyLinks) : null;
        SyncSummary summary = PlanRunner.Run(plan, watch, dryRun,
            sources is null ? null : new SftpDestinationTree(_sftp, RemoteRoot, sources, plan.Options) { TraitsOf = plan.TraitsOf },
            Side == RemoteSide.Source ? new SftpSourceTree(_sftp, RemoteRoot) : null, cancellation);
        ThrowIfFaulted(watch);
        return summary;
    }

    /// <summary>Plans and executes in one call.</summary>
    public SyncSummary Run(SyncOptions options, ISyncObserver observer, CancellationToken cancellation, bool dryRun = false)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        SyncSummary summary = Execute(Plan(options with { MeasureDestination = !dryRun }, observer, cancellation), observer, cancellation, dryRun);
        summary.Duration = SyncSummary.Seconds(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return summary;
    }

    /// <summary>Refuses what SFTP cannot carry out, before anything is touched (before connecting: what depends on the
    /// server's extensions is checked again by <see cref="Plan"/> and <see cref="Execute"/>).</summary>
    /// <exception cref="SyncException">InvalidParameterCombination.</exception>
    public static void CheckSupported(SyncOptions options, RemoteSide side)
    {
        ArgumentNullException.ThrowIfNull(options);
        CapabilitiesOf(side, serverLinks: true).Check(options);
    }

    /// <summary>What a run over SFTP can honour. SFTP moves whole files and cannot hash, so delta transfer, -Checksum
    /// and the verification -RemoveSourceFiles needs would each read whole files over the wire; version 3 carries times
    /// in whole seconds and no link counts; per-directory filter files are read by path while planning; partial files,
    /// delayed and in-place updates and basis directories are the agent's; and no device ids are listed, so -OneFileSystem
    /// cannot see the server's mount points.</summary>
    /// <param name="serverLinks">The server offers hardlink@openssh.com (a push's hard-link groups are made with it).</param>
    internal static DestinationCapabilities CapabilitiesOf(RemoteSide side, bool serverLinks)
    {
        bool push = side == RemoteSide.Destination;
        return new DestinationCapabilities
        {
            Wiring = !push ? "a source reached over SFTP (whole files, no content checksums, no link counts, links read as links; the PSReplica agent can do it)"
                : serverLinks ? "a destination reached over SFTP (whole files, times in whole seconds, nothing hashed on the server; the PSReplica agent can do it)"
                : "a destination reached over SFTP whose server does not offer hardlink@openssh.com (whole files, times in whole seconds; the PSReplica agent can do it)",
            // Pull: SFTP v3 listings have no link counts, so no group could be found.
            HardLinks = push && serverLinks,
            Backups = true,
            BasisDirectories = !push,
            // -Sparse: a pull writes here; a push would need the server to leave holes, which SFTP cannot ask of it.
            Sparse = !push,
            // SFTP v3 carries whole seconds both ways: a pull's listing could never match nanoseconds either.
            SubsecondTimes = false,
            Owners = true,
            CopyLinks = push,
            // SFTP lists no device ids: the server's side cannot tell a mount point. A push's source is local, so only its
            // deletions would cross the server's mount points; those are refused with the rest of a pull.
            OneFileSystem = push,
            DestinationMountPoints = !push,
            // SFTP carries no Windows attributes; a push's source is local, where -ArchiveOnly reads them (-ResetArchive
            // would need the copies verified, SourceRemoval).
            FileAttributes = false,
            ArchiveAttribute = push,
            // SFTP v3 has no request that makes a device, FIFO or socket, and its listings carry no device numbers.
            Specials = false,
        };
    }

    private void ThrowIfFaulted(SessionErrorWatch watch)
    {
        if ((watch.SessionError ?? _lister.Fault) is { } fault)
        {
            throw fault;
        }
    }
}
