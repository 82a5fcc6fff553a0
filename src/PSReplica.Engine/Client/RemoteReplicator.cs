using System.Linq;
using PSReplica.Engine.Client;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;
using PSReplica.Engine.Sender;

namespace PSReplica;

/// <summary>Replication between a local tree and an agent's tree, over any pair of streams (an SSH exec channel, a
/// system ssh process, or pipes in a test). The planner and the executor are the local ones: the agent's side is
/// listed through its streamed listing and written or read through requests, so items, summary, progress and errors
/// are those of a local run. Setup failures are thrown as <see cref="SyncException"/>; a session that fails during a
/// run is thrown at its end (ConnectionLost, PeerTimeout, ProtocolViolation).</summary>
public sealed class RemoteReplicator : IAsyncDisposable
{
    private readonly AgentClient _client;

    private RemoteReplicator(AgentClient client, RemoteSide side)
    {
        _client = client;
        Side = side;
    }

    public RemoteSide Side { get; }

    /// <summary>How many entries of the agent's listing a run holds ahead of its planner (<see cref="RemoteListing.HoldsAtMost"/>);
    /// tests make it small to see a tree streamed without making it large.</summary>
    internal int ListingEntriesAhead { get; set; } = RemoteListing.EntriesAhead;

    /// <summary>The session's client (tests measure what crossed the wire through it).</summary>
    internal AgentClient Client => _client;

    /// <summary>What this session can honour (<see cref="CapabilitiesOf"/>); checked against a run's options by
    /// <see cref="Plan"/> and <see cref="Execute"/> before anything is touched.</summary>
    internal DestinationCapabilities Capabilities => CapabilitiesOf(_client.Capabilities, _client.AgentVersion, _client.ProtocolVersion, Side);

    /// <summary>What a run through an agent can honour, from the <paramref name="capabilities"/> it listed in its Welcome:
    /// an agent that lacks one is never sent the requests it would need, and the option is refused instead. With the
    /// agent as sender the destination is local and the local executor does the writing.</summary>
    internal static DestinationCapabilities CapabilitiesOf(IReadOnlyList<string> capabilities, string agentVersion, int protocolVersion, RemoteSide side)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        bool Has(string capability) => capabilities.Contains(capability, StringComparer.Ordinal);
        bool push = side == RemoteSide.Destination;
        bool trees = Has(Handshake.BasisTrees);
        bool safeUpdates = Has(Handshake.SafeUpdates);
        bool listingOptions = Has(Handshake.ListingFilters);
        return new DestinationCapabilities
        {
            Wiring = $"the agent there (version {agentVersion}, protocol {protocolVersion}); a newer agent can do it",
            HardLinks = !push || trees,
            Backups = !push || trees,
            BasisDirectories = !push || trees,
            PartialFiles = !push || Has(Handshake.PartialFiles),
            DelayUpdates = !push || safeUpdates,
            Inplace = !push || safeUpdates,
            // A pull writes here (the zeros cross the wire, as with rsync -S, and become holes); a push asks the agent.
            Sparse = !push || Has(Handshake.Sparse),
            // Push: the agent hashes each copy (verify-copies); pull: the agent hashes its source file (verify-copies) and
            // removes what was listed (trees).
            SourceRemoval = Has(Handshake.VerifyCopies) && (push || trees),
            DeltaTransfer = true,
            Checksums = listingOptions,
            // A pull's basis directories are local. A push's are listed by the agent without content hashes (the planner
            // could only hash a local file of the same path): refused until the basis listing carries them.
            BasisChecksums = !push,
            SubsecondTimes = true,
            Owners = true,
            FilterFiles = listingOptions,
            CopyLinks = push || listingOptions,
            // A pull asks the agent's walk to stay on its file system; a push's source is local. Every listing carries a
            // directory's device, so a push's deletions can stop at the agent's mount points with any agent.
            OneFileSystem = push || Has(Handshake.OneFileSystem),
            DestinationMountPoints = true,
            ExtendedAttributes = Has(Handshake.ExtendedAttributes),
            // Both ways: a device's number travels in the listing (either side's), and a push makes nodes by request.
            Specials = Has(Handshake.Specials),
            // No protocol version carries Windows' attributes; a push's source is local, where -ArchiveOnly reads them.
            FileAttributes = false,
            ArchiveAttribute = push,
        };
    }

    /// <summary>-Watch: the agent's directory moves (MoveWithin) on a push; null for a pull or an agent without them.</summary>
    internal Engine.Endpoints.IDirectoryMoves? DirectoryMoves => Side == RemoteSide.Destination && _client.MovesWithin ? new AgentDirectoryMoves(_client) : null;

    /// <summary>The agent's software version, from the handshake.</summary>
    public string AgentVersion => _client.AgentVersion;

    /// <summary>Performs the handshake on <paramref name="input"/> (from the agent) and <paramref name="output"/> (to it)
    /// and opens <paramref name="remoteRoot"/> on the agent.</summary>
    /// <exception cref="SyncException">The agent is not there or refused (ProtocolVersionMismatch, PeerTimeout,
    /// ConnectionLost, SourceNotFound, SourceNotDirectory, DestinationNotDirectory).</exception>
    public static async Task<RemoteReplicator> ConnectAsync(Stream input, Stream output, RemoteSide side, string remoteRoot,
        RemoteSessionOptions options, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clientOptions = new AgentClientOptions
        {
            IdleTimeout = options.IdleTimeout,
            HandshakeTimeout = options.HandshakeTimeout,
            CompressionLevel = options.CompressionLevel,
            BandwidthLimit = options.BandwidthLimit,
            Log = options.Log,
        };
        AgentClient client = await AgentClient.ConnectAsync(input, output, side, remoteRoot, clientOptions, cancellation).ConfigureAwait(false);
        return new RemoteReplicator(client, side);
    }

    /// <summary>Scans both trees and returns what would be done; changes nothing. The remote side of
    /// <paramref name="options"/> (Source for a pull, Destination for a push) is the agent's root.</summary>
    /// <param name="localScan">The local side listed ahead (<see cref="StartLocalScan"/>), or null.</param>
    public SyncPlan Plan(SyncOptions options, ISyncObserver observer, CancellationToken cancellation, LocalScan? localScan = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(observer);
        var watch = new SessionErrorWatch(observer);
        SyncPlan plan = Plan(options, observer, watch, stream: false, localScan, cancellation);
        ThrowIfFaulted(watch);
        return plan;
    }

    /// <param name="watch">The observer the planner reports to (the run's, its session errors kept aside).</param>
    /// <param name="stream">Plan on a thread of its own, the plan to be run while it is made, where the options allow
    /// (<see cref="SyncPlanner.CanStream(SyncOptions, SourceSet)"/>): the agent's listing is then read only as far ahead of
    /// the planner as <see cref="RemoteListing.EntriesAhead"/> allows (whether or not the plan streams), so neither the plan nor the listing is held whole.</param>
    private SyncPlan Plan(SyncOptions options, ISyncObserver observer, SessionErrorWatch watch, bool stream, LocalScan? localScan,
        CancellationToken cancellation)
    {
        LocalReplicator.Validate(options);
        Capabilities.Check(options);
        LocalReplicator.ForLocalSide(options.FileSystem, Side).Check(options);
        using FileSystemBackend.Scope backend = FileSystemBackend.Use(options.FileSystem);
        if (Side == RemoteSide.Destination)
        {
            if (options.Inplace && options.Backup)
            {
                // The agent's backup is a hard link to the file, which an in-place rewrite would change along with it.
                throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                    "-Backup cannot be combined with -Inplace when the destination is remote: the remote backup is a hard link to "
                    + "the file, which the in-place rewrite would change too.", "Backup");
            }

            if (options.PartialDirectory is { } partialDirectory && Path.IsPathRooted(partialDirectory))
            {
                throw new SyncException(ErrorIds.InvalidPartialDirectory, SyncErrorKind.InvalidArgument,
                    $"-PartialDirectory '{partialDirectory}' is absolute; with a remote destination it must be a plain directory name "
                    + "(made inside each destination directory that needs it).", partialDirectory);
            }
        }

        options = PartialFiles.Prepare(options);

        ListingOptions? listingOptions = ListingOptionsFor(options);
        FileEntry? remoteRoot = _client.RootEntry?.ToFileEntry(_client.Root);
        RemoteListing? listing = remoteRoot is null ? null
            : _client.ListAsync(string.Empty, recursive: true, cancellation, listingOptions, ListingEntriesAhead).GetAwaiter().GetResult();
        if (listing is not null && Side == RemoteSide.Destination && options.PruneEmptyDirectories && options.Delete)
        {
            // A pruned directory's copy is deleted after it was planned: its listing is asked for twice.
            listing.KeepsTaken = true;
        }

        ITreeLister? remoteLister = listing is null ? null
            : new RemoteTreeLister(listing,
                resolvesLinks: listingOptions?.Has(ListingFeatures.CopyLinks) == true,
                describe: Side == RemoteSide.Destination && _client.DescribesFileSystems
                    ? (relative, measure) => _client.DescribeFileSystemAsync(relative, measure, cancellation).GetAwaiter().GetResult()
                    : null,
                root: _client.Root,
                cancellation: cancellation);
        SyncPlan plan;
        RemoteBasisLookup? basisLookup = null;
        try
        {
            if (Side == RemoteSide.Destination)
            {
                SourceSet sources = SourceSet.Resolve(options);
                BasisDirectories? basis = RemoteBasisLookup.Open(_client, options, watch, cancellation);
                basisLookup = basis?.Lookup as RemoteBasisLookup;
                ITreeLister? sourceLister = ScanOf(localScan, sources.ScanRoot);
                plan = stream && SyncPlanner.CanStream(options, sources)
                    ? SyncPlanner.Stream(options, sources, _client.Root, remoteRoot, watch, cancellation, sourceLister, remoteLister, basis,
                        remoteDestination: true)
                    : SyncPlanner.Build(options, sources, _client.Root, remoteRoot, watch, cancellation, sourceLister: sourceLister,
                        destinationLister: remoteLister, basis: basis, remoteDestination: true);
            }
            else
            {
                if (options.AdditionalSources.Count > 0)
                {
                    throw SeveralRemoteSources(options);
                }

                FileEntry source = remoteRoot ?? throw new SyncException(ErrorIds.SourceNotFound, SyncErrorKind.NotFound,
                    $"The source '{_client.Root}' does not exist.", _client.Root);
                string destination = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Destination));
                FileEntry? existing = LocalReplicator.ResolveDestination(destination);
                string root = existing is null ? destination : LocalReplicator.CanonicalDestination(destination);
                options = PSReplica.Engine.Metadata.XattrSupport.Narrow(options, existing is null ? Path.GetDirectoryName(destination) : root, observer);
                ITreeLister? destinationLister = existing is null ? null : ScanOf(localScan, root);
                plan = stream && SyncPlanner.CanStream(options)
                    ? SyncPlanner.Stream(options, source, root, existing, watch, cancellation, sourceLister: remoteLister, destinationLister: destinationLister)
                    : SyncPlanner.Build(options, source, root, existing, watch, cancellation, sourceLister: remoteLister,
                        destinationLister: destinationLister);
            }
        }
        catch
        {
            listing?.StopHolding();
            basisLookup?.StopHolding();
            throw;
        }

        if (listing is not null || basisLookup is not null)
        {
            // Once the planner is done, nothing reads the listings: the rest of each (directories the planner never asked
            // for) is read and dropped, so the agent's walks end.
            void StopHolding()
            {
                listing?.StopHolding();
                basisLookup?.StopHolding();
            }

            if (plan.Planning is { } planning)
            {
                _ = planning.ContinueWith(_ => StopHolding(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            else
            {
                StopHolding();
            }
        }

        if (localScan is not null && observer.WantsDebug)
        {
            observer.OnDebug($"{localScan.DirectoriesListed} local director(ies) were listed ahead while the agent started");
        }

        return plan;
    }

    /// <summary>Carries out a plan made by <see cref="Plan(SyncOptions, ISyncObserver, CancellationToken, LocalScan?)"/>
    /// through this session; <paramref name="dryRun"/> as for <see cref="LocalReplicator.Execute"/>.</summary>
    public SyncSummary Execute(SyncPlan plan, ISyncObserver observer, CancellationToken cancellation, bool dryRun = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(observer);
        return Execute(plan, new SessionErrorWatch(observer), dryRun, cancellation);
    }

    private SyncSummary Execute(SyncPlan plan, SessionErrorWatch watch, bool dryRun, CancellationToken cancellation)
    {
        // A plan made elsewhere (or against another session) is never carried out with something else instead.
        Capabilities.Check(plan.Options);
        using FileSystemBackend.Scope backend = FileSystemBackend.Use(plan.Options.FileSystem);

        using SourceFiles? sources = Side == RemoteSide.Destination ? new SourceFiles(plan.SourceRoots, plan.Options.CopyLinks) : null;
        RemoteDestinationTree? destination = sources is null ? null : new RemoteDestinationTree(_client, sources, plan.Options);
        if (destination is { DelaysUpdates: true } && !dryRun)
        {
            destination.DelayUpdates(cancellation);
        }

        if (destination is not null && plan.Options.Sparse && !dryRun)
        {
            _client.SparseFilesAsync(cancellation).GetAwaiter().GetResult();
        }

        SyncSummary summary = PlanRunner.Run(plan, watch, dryRun, destination, Side == RemoteSide.Source ? new RemoteSourceTree(_client) : null,
            cancellation);
        ThrowIfFaulted(watch);
        return summary;
    }

    /// <summary>Plans and executes in one call: where the options allow, the actions run while the rest of both trees is
    /// listed and planned (rsync's incremental recursion), as a local run does, so memory holds a window of the plan and of
    /// the agent's listing, not all of either.</summary>
    public SyncSummary Run(SyncOptions options, ISyncObserver observer, CancellationToken cancellation, bool dryRun = false, LocalScan? localScan = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(observer);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();

        // One watch for the planner and the runner: a session lost while the planner still lists ends the run as one lost
        // while the runner copies does.
        var watch = new SessionErrorWatch(observer);
        SyncPlan plan = Plan(options with { MeasureDestination = !dryRun }, observer, watch, stream: true, localScan, cancellation);
        SyncSummary summary;
        try
        {
            if (!plan.Actions.Streams)
            {
                ThrowIfFaulted(watch);
            }

            summary = Execute(plan, watch, dryRun, cancellation);
        }
        finally
        {
            // A runner that never started (its options refused) still ends the planner it was given.
            plan.StopPlanning();
        }

        summary.Duration = SyncSummary.Seconds(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return summary;
    }

    /// <summary>Starts listing the local side of a run with <paramref name="options"/> (the source of a push, the existing
    /// destination of a pull) while the connection is made; null when there is nothing to list (the planner reports a
    /// missing source itself). Pass it to <see cref="Run"/> or <see cref="Plan"/>, and dispose of it after.</summary>
    public static LocalScan? StartLocalScan(SyncOptions options, RemoteSide side)
    {
        ArgumentNullException.ThrowIfNull(options);
        using FileSystemBackend.Scope backend = FileSystemBackend.Use(options.FileSystem);
        try
        {
            if (side == RemoteSide.Destination)
            {
                return SourceSet.Resolve(options).ScanRoot is { } directory ? LocalScan.Start(directory, options.OneFileSystem) : null;
            }

            string destination = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Destination));
            return LocalReplicator.ResolveDestination(destination) is null ? null : LocalScan.Start(LocalReplicator.CanonicalDestination(destination));
        }
        catch (SyncException)
        {
            return null;
        }
    }

    /// <summary>The planner's lister for the local root <paramref name="root"/>: the scan's, when it lists that root.</summary>
    private static ITreeLister? ScanOf(LocalScan? scan, string? root) =>
        scan is not null && string.Equals(scan.Root, root, StringComparison.Ordinal) ? scan.Lister : null;

    /// <summary>A pull has one source, the agent's root: several remote sources would each need a session of their own.</summary>
    internal static SyncException SeveralRemoteSources(SyncOptions options) =>
        new(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
            "Only a local source can be one of several: a remote source (a pull) must be the only one; pull each in a run of its own.",
            options.AdditionalSources[0]);

    /// <summary>Says goodbye to the agent (it exits cleanly). The caller closes the streams.</summary>
    public ValueTask DisposeAsync() => _client.DisposeAsync();

    /// <summary>A session that ended during the run ends the run: its first error, as a terminating one.</summary>
    private void ThrowIfFaulted(SessionErrorWatch watch)
    {
        if ((watch.SessionError ?? _client.Fault) is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>What the agent's walk is asked to apply: the filter (so that what the planner skips is not listed, and
    /// the per-directory filter files come along), checksums for -Checksum, links followed for -CopyLinks and the walk kept
    /// on the root's file system for -OneFileSystem on a source.
    /// An agent of protocol 1 can do none of it: the options that need it are refused by <see cref="Capabilities"/>.</summary>
    private ListingOptions? ListingOptionsFor(SyncOptions options)
    {
        ListingFeatures features = ListingFeatures.None;
        if (options.Filter.Rules.Count > 0)
        {
            features |= ListingFeatures.Filter;
        }

        if (options.DeleteExcluded)
        {
            features |= ListingFeatures.DeleteExcluded;
        }

        if (options.Delete)
        {
            features |= ListingFeatures.Delete;
        }

        if (options.CompareMode == CompareMode.Checksum)
        {
            features |= ListingFeatures.Checksums;
        }

        if (options.CopyLinks && Side == RemoteSide.Source)
        {
            features |= ListingFeatures.CopyLinks;
        }

        if (options.OneFileSystem && Side == RemoteSide.Source)
        {
            features |= ListingFeatures.OneFileSystem;
        }

        if (options.XattrScope != PSReplica.Engine.Metadata.XattrScope.None)
        {
            features |= ListingFeatures.ExtendedAttributes;
        }

        if ((options.Preserve & PreserveOptions.Devices) != 0)
        {
            // Either side's: a pull makes devices from the agent's numbers, a push compares the agent's devices with its own.
            features |= ListingFeatures.DeviceNumbers;
        }

        if (_client.FiltersListings)
        {
            return (features & (ListingFeatures.Filter | ListingFeatures.Checksums | ListingFeatures.CopyLinks | ListingFeatures.OneFileSystem
                    | ListingFeatures.ExtendedAttributes | ListingFeatures.DeviceNumbers)) == 0 ? null
                : new ListingOptions(features, (features & ListingFeatures.Filter) != 0 ? options.Filter.ToString() : string.Empty) { XattrScope = options.XattrScope };
        }

        return null;
    }
}
