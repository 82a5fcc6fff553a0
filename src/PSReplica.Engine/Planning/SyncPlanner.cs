using System.Diagnostics;
using System.IO.Hashing;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Planning;

/// <summary>Walks the source and destination trees side by side, one directory pair at a time (merge of two
/// sorted listings), and plans what makes the destination a replica: each directory's deletions first, then its
/// entries in name order, a directory before its contents (rsync's --delete-during order).</summary>
internal sealed class SyncPlanner
{
    private const int ProgressIntervalMs = 200;

    // S_IWUSR | S_IXUSR: what the owner needs to create, rename or delete names in a directory.
    private const int OwnerWriteSearch = 0xC0;

    /// <summary>How many names of a -Watch batch in one directory make its destination side worth reading on another
    /// thread beside the source side (fewer stat faster than a thread-pool hand-over, which waits for a core under load).</summary>
    private const int NamesListedInParallel = 256;

    private readonly SyncOptions _options;
    private readonly SyncPlan _plan;
    private readonly ISyncObserver _observer;

    // What the destination's file system holds, per device (FAT: 2 s times, no owners, ...), and that of the directory
    // being planned; each limit that touches what the run asked for is said once.
    private readonly Dictionary<ulong, FileSystemTraits> _traitsByDevice = [];
    private readonly HashSet<string> _limitsSaid = new(StringComparer.Ordinal);
    private FileSystemTraits _traits = FileSystemTraits.Full;
    private readonly CancellationToken _cancellation;
    private readonly ITreeLister _sourceLister;
    private readonly ITreeLister _destinationLister;
    private readonly HashSet<(ulong Device, ulong Inode)> _activeDirectories = [];

    // -CopyLinks: the directories the planner reached through a link and has not listed yet (listed by path, following
    // it, as rsync -L does).
    private readonly HashSet<FileEntry> _followedDirectories = new(ReferenceEqualityComparer.Instance);

    // -OneFileSystem: the devices of the two roots (the destination's when it exists); a directory elsewhere is a mount point.
    private ulong _sourceDevice;
    private ulong? _destinationDevice;

    // -OneFileSystem with several directory sources: each one's device holds below it, as rsync takes the file system of
    // each top directory named (deepest first, so that a source inside another is found first).
    private List<(string Path, ulong Device)>? _sourceRoots;

    // The source directories planned so far, in order: -PruneEmptyDirectories takes back the ones of a pruned subtree.
    private readonly List<string> _directoryOrder = [];

    // Several local sources (or a file): their merged view, told which names are transferred, so that a clash counts.
    private readonly MergedSourceLister? _merged;

    // -FilesFrom: the names each source directory must hold (a listed path, or a directory on its way), by its relative path.
    private readonly Dictionary<string, List<string>>? _listed;
    // -FilesFrom: the list alone as a filter, which an item the user's rules include must pass too.
    private readonly SyncFilter? _selection;

    // -FilesFrom: the directories on the way to a listed path (rsync's implied directories), which the filter does not
    // judge (rsync sends them as they are), mapped to whether a listed path below them passes the filter's rules (only
    // then is one sent: rsync sends an implied directory for a path it sends); and the listed paths themselves.
    private readonly Dictionary<string, bool>? _implied;
    private readonly HashSet<string>? _listedPaths;

    // False when only files were named: the destination root replicates no directory (no attributes, no deletions).
    private readonly bool _rootIsSource = true;

    // Asked once: every verbose or debug message below is built only when its flag is set.
    private readonly bool _verbose;
    private readonly bool _debug;

    // The sender's view decides what is transferred; the receiver's what is protected from deletion. Each reads the
    // per-directory (dir-merge) files of its own tree, as rsync's sender and generator do.
    private readonly FilterContext _sourceFilter;
    private readonly FilterContext _destinationFilter;
    private readonly BasisDirectories _basis;

    // -Preserve HardLinks: the first name seen of each source inode, its destination path and what stood there.
    private readonly Dictionary<(ulong Device, ulong Inode), (string DestinationPath, FileEntry? Existing, bool Rewritten)> _linkGroups = [];
    private ((ulong Device, ulong Inode) Key, string DestinationPath, FileEntry? Existing)? _pendingLeader;

    /// <summary>Whether the pending leader's planning added a copy or a link of its destination file (noted as actions are
    /// added: a streamed plan's earlier actions may be gone by the time the leader is settled).</summary>
    private bool _pendingLeaderRewritten;

    /// <summary>Whether the pending leader's destination item was kept as it is by -Update or -IgnoreExisting (or because
    /// it could not be replaced), or left out by -CompareDest: it does not hold the source's content, so the group's next
    /// name leads it instead (rsync sends that one on its own).</summary>
    private bool _pendingLeaderKept;

    /// <summary>Whether the entry being planned left the destination's item as it is (-IgnoreExisting, -Update, or one it
    /// could not replace), so that -RemoveSourceFiles and -ResetArchive pass its source over.</summary>
    private bool _destinationKept;

    /// <summary>Where the entry being planned has the copy -RemoveSourceFiles verifies it against when that is a basis
    /// directory's file (-CompareDest left it out, or deleted the destination's copy, because the basis holds it): its
    /// path and its directory's number (the agent's tree number on a push).</summary>
    private (string Path, int Basis)? _copyInBasis;
    private long _scanned;

    // -Watch: what this batch plans (null: everything), and whether the directory being planned is planned whole.
    private readonly PlanScope? _scope;
    private bool _whole;
    private long _nextProgress;
    private readonly ExtendedAttributeComparer _extendedAttributes;

    /// <summary>Itemize's first letter for a file sent: '<' where this process sends to a remote destination (a push),
    /// '>' where it receives (local runs, pulls), as rsync's client prints them.</summary>
    private readonly char _transfer;

    private SyncPlanner(SyncOptions options, SyncPlan plan, ISyncObserver observer, ITreeLister sourceLister, ITreeLister destinationLister,
        BasisDirectories? basis, CancellationToken cancellation, MergedSourceLister? merged = null, bool rootIsSource = true,
        bool remoteDestination = false)
    {
        _transfer = remoteDestination ? '<' : '>';
        _merged = merged;
        _listed = ListedByDirectory(options.Listed);
        _selection = options.Listed is null ? null : FilesFromList.AddSelection(new SyncFilterBuilder(), options.Listed).Build();
        (_implied, _listedPaths) = ImpliedDirectories(options.Listed, options.Filter);
        // -FilesFrom names the paths to send, not the root ('.' is dropped from the list): rsync gives the destination root
        // none of the source root's attributes then.
        _rootIsSource = rootIsSource && options.Listed is null;
        _verbose = observer.WantsVerbose;
        _debug = observer.WantsDebug;
        _sourceLister = _verbose ? new MeasuredTreeLister(sourceLister) : sourceLister;
        _destinationLister = _verbose ? new MeasuredTreeLister(destinationLister) : destinationLister;
        _options = options;
        _sourceFilter = options.Filter.CreateContext(FilterSide.Sender, plan.SourceRoot, options.DeleteExcluded, sourceLister.FilterFileReader);
        _destinationFilter = options.Filter.CreateContext(FilterSide.Receiver, plan.DestinationRoot, options.DeleteExcluded, destinationLister.FilterFileReader);
        _plan = plan;
        _observer = observer;
        _cancellation = cancellation;
        _basis = basis ?? BasisDirectories.From(options, plan.DestinationRoot, observer);
        _extendedAttributes = new ExtendedAttributeComparer(options.XattrScope, _sourceLister, _destinationLister);
        // Hard links are grouped over the whole tree: a batch that saw one name of a group plans every name.
        _scope = options.Scope is { IsEverything: false } scope && (options.Preserve & PreserveOptions.HardLinks) == 0 ? scope : null;
        _whole = _scope is null;
    }

    public static SyncPlan Build(SyncOptions options, FileEntry sourceRoot, string destinationRoot, FileEntry? destinationEntry,
        ISyncObserver observer, CancellationToken cancellation, ITreeLister? sourceLister = null, ITreeLister? destinationLister = null,
        BasisDirectories? basis = null) =>
        Build(options, sourceRoot, destinationRoot, destinationEntry, observer, sourceLister, destinationLister, basis, stream: false, cancellation);

    /// <summary>Whether a plan from one source directory (a pull's, the agent's root) can be run while it is made: as
    /// <see cref="CanStream(SyncOptions, SourceSet)"/> for a single directory source.</summary>
    public static bool CanStream(SyncOptions options) => !options.PruneEmptyDirectories && options.Review is null;

    /// <summary><see cref="Stream(SyncOptions, SourceSet, string, FileEntry?, ISyncObserver, CancellationToken, ITreeLister?, ITreeLister?, BasisDirectories?)"/>
    /// from one source directory given by its entry (a pull: the agent's root, listed through <paramref name="sourceLister"/>).
    /// Only where <see cref="CanStream(SyncOptions)"/> says so.</summary>
    public static SyncPlan Stream(SyncOptions options, FileEntry sourceRoot, string destinationRoot, FileEntry? destinationEntry,
        ISyncObserver observer, CancellationToken cancellation, ITreeLister? sourceLister = null, ITreeLister? destinationLister = null) =>
        Build(options, sourceRoot, destinationRoot, destinationEntry, observer, sourceLister, destinationLister, null, stream: true, cancellation);

    private static SyncPlan Build(SyncOptions options, FileEntry sourceRoot, string destinationRoot, FileEntry? destinationEntry,
        ISyncObserver observer, ITreeLister? sourceLister, ITreeLister? destinationLister, BasisDirectories? basis, bool stream,
        CancellationToken cancellation)
    {
        long started = Stopwatch.GetTimestamp();
        var plan = new SyncPlan(options, sourceRoot.FullPath, destinationRoot);
        var planner = new SyncPlanner(options, plan, observer, sourceLister ?? LocalTreeLister.Instance, destinationLister ?? LocalTreeLister.Instance,
            basis, cancellation);
        return planner.Start(stream, destinationEntry is not null, () => planner.PlanAll(sourceRoot, destinationRoot, destinationEntry, null, started));
    }

    /// <summary>Plans from a local source as named (one directory, or several directories and files merged): a name that
    /// two sources hold, not both as directories, ends the run here, before anything is touched.</summary>
    /// <param name="sourceLister">The lister of the local source's directories (a scan made ahead), or null.</param>
    /// <exception cref="SyncException">SourceNameClash.</exception>
    /// <param name="remoteDestination">A push: this process sends (Itemize '<' for a file sent, as rsync's client).</param>
    public static SyncPlan Build(SyncOptions options, SourceSet sources, string destinationRoot, FileEntry? destinationEntry,
        ISyncObserver observer, CancellationToken cancellation, ITreeLister? sourceLister = null, ITreeLister? destinationLister = null,
        BasisDirectories? basis = null, bool remoteDestination = false) =>
        Build(options, sources, destinationRoot, destinationEntry, observer, sourceLister, destinationLister, basis, stream: false,
            remoteDestination, cancellation);

    /// <summary>Whether a plan from <paramref name="sources"/> can be run while it is made (a streamed plan): not when
    /// a run must know the whole plan before it touches anything: several sources (a name two of them hold ends the run
    /// before anything is touched), -PruneEmptyDirectories (a directory's actions are taken back when nothing below it
    /// is transferred) or a reviewed plan.</summary>
    public static bool CanStream(SyncOptions options, SourceSet sources) =>
        sources.IsSingleDirectory && CanStream(options);

    /// <summary>Starts planning on a thread of its own and returns the plan at once, its actions to be taken while they
    /// are made (<see cref="PlanActions.TryTake"/>): rsync's incremental recursion, so that a run over a large tree holds
    /// a window of its plan instead of all of it. Only where <see cref="CanStream(SyncOptions, SourceSet)"/> says so.</summary>
    /// <param name="basis">A remote destination's basis directories (a push's -LinkDest and kin), or null for the local ones.</param>
    /// <param name="remoteDestination">A push: this process sends (Itemize '<' for a file sent, as rsync's client).</param>
    public static SyncPlan Stream(SyncOptions options, SourceSet sources, string destinationRoot, FileEntry? destinationEntry,
        ISyncObserver observer, CancellationToken cancellation, ITreeLister? sourceLister = null, ITreeLister? destinationLister = null,
        BasisDirectories? basis = null, bool remoteDestination = false) =>
        Build(options, sources, destinationRoot, destinationEntry, observer, sourceLister, destinationLister, basis, stream: true,
            remoteDestination, cancellation);

    private static SyncPlan Build(SyncOptions options, SourceSet sources, string destinationRoot, FileEntry? destinationEntry,
        ISyncObserver observer, ITreeLister? sourceLister, ITreeLister? destinationLister, BasisDirectories? basis, bool stream,
        bool remoteDestination, CancellationToken cancellation)
    {
        long started = Stopwatch.GetTimestamp();
        ITreeLister inner = sourceLister ?? LocalTreeLister.Instance;
        MergedSourceLister? merged = sources.Merge(inner, options.CopyLinks);
        var plan = new SyncPlan(options, sources.Root.FullPath, destinationRoot, sources);
        var planner = new SyncPlanner(options, plan, observer, merged ?? inner, destinationLister ?? LocalTreeLister.Instance, basis, cancellation, merged,
            sources.HasDirectory, remoteDestination);
        if (options.OneFileSystem && merged is not null)
        {
            planner._sourceRoots = [];
            foreach (SourceSet.Member member in sources.Members)
            {
                if (member.Entry.IsDirectory)
                {
                    planner._sourceRoots.Add((member.Path, member.Entry.Device));
                }
            }

            planner._sourceRoots.Sort(static (a, b) => b.Path.Length.CompareTo(a.Path.Length));
        }
        return planner.Start(stream, destinationEntry is not null, () => planner.PlanAll(sources.Root, destinationRoot, destinationEntry, merged, started));
    }

    /// <summary>Says the run's set-up (with -Verbose or -Debug), then plans here and returns the plan made, or
    /// (<paramref name="stream"/>) starts planning on a thread of its own and returns the plan at once, its actions to be
    /// taken while they are made.</summary>
    private SyncPlan Start(bool stream, bool destinationExists, Action planAll)
    {
        // A -Watch batch says its own line instead: the roots, backend and filter are the first sync's.
        if ((_verbose || _debug) && _options.Scope is null)
        {
            ReportSetup(destinationExists);
        }

        SyncPlan plan = _plan;
        if (!stream)
        {
            planAll();
            return plan;
        }

        plan.Actions.BeginStreaming();
        plan.SourceFiles.BeginStreaming();
        plan.Planning = Task.Factory.StartNew(() =>
        {
            try
            {
                planAll();
                // First: a runner that sees the actions complete finds the source files complete too.
                plan.SourceFiles.Complete();
                plan.Actions.Complete();
            }
            catch (Exception ex)
            {
                plan.SourceFiles.Complete();
                plan.Actions.Complete(ex);
                throw;
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return plan;
    }

    private void PlanAll(FileEntry root, string destinationRoot, FileEntry? destinationEntry, MergedSourceLister? merged, long started)
    {
        PlanRoot(root, destinationRoot, destinationEntry);
        merged?.ThrowIfClashed();
        _observer.OnProgress(new SyncProgress { Phase = SyncPhase.Scanning, ItemsScanned = _scanned });
        if (_verbose)
        {
            ReportScan(Stopwatch.GetElapsedTime(started));
        }
    }


    /// <summary>-Verbose: the roots as resolved and the filter, before the scan; -Debug: the filter's rules.</summary>
    private void ReportSetup(bool destinationExists)
    {
        if (_verbose)
        {
            _observer.OnVerbose($"Source: {_plan.SourceRoot}");
            _observer.OnVerbose($"Destination: {_plan.DestinationRoot}{(destinationExists ? string.Empty : " (does not exist yet: the run creates it)")}");
            _observer.OnVerbose(Native.FileSystemBackend.Describe(_plan.Options.FileSystem));
        }

        int rules = 0;
        foreach (FilterRule rule in _options.Filter.Rules)
        {
            if (!rule.ImpliedByMergeRule)
            {
                rules++;
                if (_debug)
                {
                    _observer.OnDebug($"Filter rule {rules}: {rule.Text}");
                }
            }
        }

        if (!_verbose)
        {
            return;
        }

        _observer.OnVerbose(rules == 0 ? "Filter: no rules (every item is transferred)"
            : $"Filter: {rules} rule(s){(_options.Filter.HasDirMerge ? ", and the rules of the per-directory filter files" : string.Empty)}");
        if (_options.MinSize is not null || _options.MaxSize is not null)
        {
            string least = _options.MinSize is { } min ? "-MinSize " + RunReport.Bytes(min) : string.Empty;
            string most = _options.MaxSize is { } max ? "-MaxSize " + RunReport.Bytes(max) : string.Empty;
            _observer.OnVerbose($"Size limits: {least}{(least.Length > 0 && most.Length > 0 ? ", " : string.Empty)}{most} "
                + "(regular files outside them are not transferred)");
        }

        if (_options.SelectsArchive)
        {
            _observer.OnVerbose(_options.ResetArchive
                ? "Archive: only files whose Archive attribute is set are transferred, and it is cleared once each copy is verified (-ResetArchive)"
                : "Archive: only files whose Archive attribute is set are transferred (-ArchiveOnly)");
        }
    }

    /// <summary>-Verbose: what each side's listing held and how long it took, and the plan's counts.</summary>
    private void ReportScan(TimeSpan elapsed)
    {
        foreach ((string side, ITreeLister lister) in new[] { ("source", _sourceLister), ("destination", _destinationLister) })
        {
            if (lister is MeasuredTreeLister measured)
            {
                _observer.OnVerbose(measured.Directories == 0
                    ? $"Scanned the {side}: nothing to list"
                    : $"Scanned the {side}: {measured.Entries} item(s) in {measured.Directories} director{(measured.Directories == 1 ? "y" : "ies")}, "
                        + $"{RunReport.Seconds(measured.Elapsed)} listing");
            }
        }

        _observer.OnVerbose(RunReport.Plan(_plan, elapsed));
    }

    private bool PreserveTimes => (_options.Preserve & PreserveOptions.Times) != 0;

    private void PlanRoot(FileEntry source, string destinationRoot, FileEntry? destination)
    {
        // The root is never pruned (rsync -m creates an empty destination root too); -OneFileSystem holds directories
        // against the roots' devices.
        _sourceDevice = source.Device;
        _destinationDevice = destination?.Device;
        _traits = TraitsOf(destinationRoot, destination?.Device, string.Empty);
        if (_rootIsSource)
        {
            RememberDirectory(string.Empty, source);
        }

        if (destination is null)
        {
            Add(ActionKind.CreateRoot, SyncAction.Create, source, null, ".", destinationRoot, SyncReason.New, Itemizer.New('c', SyncItemType.Directory),
                fromSource: _rootIsSource);
            Descend(string.Empty, source, destinationRoot, null);
            return;
        }

        AttributeChanges changes = _rootIsSource ? CompareAttributes(source, destination) : AttributeChanges.None;
        if (changes != AttributeChanges.None)
        {
            AddMetadata(source, destination, ".", destinationRoot, changes);
        }

        Descend(string.Empty, source, destinationRoot, destination);
    }

    /// <summary>Plans a source directory's contents; returns what its subtree holds (for -PruneEmptyDirectories).</summary>
    /// <param name="destinationEntry">The directory that stands at its place in the destination, or null when none does.</param>
    private Content Descend(string relative, FileEntry sourceDirectory, string destinationDirectory, FileEntry? destinationEntry)
    {
        if (_options.OneFileSystem && sourceDirectory.Device != SourceDeviceOf(sourceDirectory))
        {
            // rsync -x: a mount point is copied as an empty directory; nothing below it is listed or deleted.
            return Content.None;
        }

        // With -CopyLinks a link can lead back to an ancestor; never enter a directory already being walked.
        if (!_activeDirectories.Add((sourceDirectory.Device, sourceDirectory.Inode)))
        {
            RecordScanError(new SyncException(ErrorIds.ScanError, SyncErrorKind.ReadError,
                $"Skipping '{sourceDirectory.FullPath}': it leads back to a directory that is being copied (symbolic link loop).", relative));
            return Content.Unknown;
        }

        try
        {
            return PlanDirectory(relative, sourceDirectory, destinationDirectory, destinationEntry);
        }
        finally
        {
            _activeDirectories.Remove((sourceDirectory.Device, sourceDirectory.Inode));
        }
    }

    private Content PlanDirectory(string relative, FileEntry sourceDirectory, string destinationDirectory, FileEntry? destinationEntry)
    {
        NoteClosed(destinationEntry, relative);
        FileSystemTraits outer = _traits;
        if (relative.Length > 0 && destinationEntry is { IsDirectory: true } && destinationEntry.Device != _destinationDevice)
        {
            // A mount point in the destination tree: what is below it is written to another file system.
            _traits = TraitsOf(destinationDirectory, destinationEntry.Device, relative);
        }

        try
        {
            return PlanDirectoryOn(relative, sourceDirectory, destinationDirectory, destinationEntry);
        }
        finally
        {
            _traits = outer;
        }
    }

    /// <summary>One side's listing of a directory: by <paramref name="entry"/>, its parent's listing's (see the caller), or by
    /// path when that is null.</summary>
    private static List<FileEntry> ListDirectory(ITreeLister lister, string fullPath, string relative, FileEntry? entry) =>
        entry is null ? lister.List(fullPath, relative) : lister.ListVerified(entry, relative);

    /// <summary>The traits of the file system a destination directory is on, detected once per device; said by -Verbose
    /// and remembered in the plan (for the receiver) where they limit anything.</summary>
    private FileSystemTraits TraitsOf(string destinationDirectory, ulong? device, string relative)
    {
        FileSystemTraits traits;
        if (device is { } known && _traitsByDevice.TryGetValue(known, out FileSystemTraits? seen))
        {
            traits = seen;
        }
        else
        {
            traits = _destinationLister.Traits(destinationDirectory, device, _options.MeasureDestination);
            if (device is { } detected)
            {
                _traitsByDevice[detected] = traits;
            }

            if (_verbose && !ReferenceEquals(traits, FileSystemTraits.Full))
            {
                _observer.OnVerbose($"Destination file system at '{destinationDirectory}': {traits.Describe()}");
            }
        }

        if (!traits.HoldsEverything || !_plan.DestinationTraits.IsEmpty)
        {
            _plan.DestinationTraits[relative] = traits;
        }

        SayLimits(traits, destinationDirectory);
        return traits;
    }

    /// <summary>One warning per run and limit that touches what the run asked for (not one error per item).</summary>
    private void SayLimits(FileSystemTraits traits, string where)
    {
        void Say(bool limited, string what, string consequence)
        {
            if (limited && _limitsSaid.Add(what))
            {
                _observer.OnWarning($"The destination file system at '{where}' ({traits.Type}) cannot hold {what}: {consequence}.");
            }
        }

        PreserveOptions preserve = _options.Preserve;
        Say(!traits.Owners && (preserve & (PreserveOptions.Owner | PreserveOptions.Group)) != 0, "owners", "files keep the owner the file system gives them");
        Say(!traits.Permissions && (preserve & PreserveOptions.Permissions) != 0, "permissions", "files keep the mode the file system gives them");
        Say(!traits.HardLinks && (preserve & PreserveOptions.HardLinks) != 0, "hard links", "each name of a linked file is copied as a file of its own");
    }

    private Content PlanDirectoryOn(string relative, FileEntry sourceEntry, string destinationDirectory, FileEntry? destinationEntry)
    {
        string sourceDirectory = sourceEntry.FullPath;
        bool destinationExists = destinationEntry is not null;
        _cancellation.ThrowIfCancellationRequested();
        CollectListings();
        // -Watch: a directory the destination lacks, or one the batch names as a subtree, is planned whole with all below.
        bool whole = _whole || !destinationExists || _scope!.IsWhole(relative);
        // Otherwise only the names this batch saw change here, or on the way to a change below, are read on each side: a
        // few files changed in a large directory cost their own stats, not its listing. (Where the destination folds names,
        // the directory's every name is planned, so that a new name is held against the ones it folds to.)
        IReadOnlySet<string>? only = !whole && _traits.CaseSensitive && !_traits.WindowsNamesOnly ? _scope!.NamesIn(relative) : null;
        // Below the root, each side's directory is listed (or its names stated) only while it is still the one its parent's
        // listing named (ITreeLister.ListVerified: opened without following a link, its identity checked): one swapped for a
        // link since is never listed in its place. The root (which may be a link: rsync follows one named with a trailing
        // slash) and a directory -CopyLinks reached through a link are listed by path.
        FileEntry? sourceNamed = relative.Length == 0 || _followedDirectories.Remove(sourceEntry) ? null : sourceEntry;
        FileEntry? destinationNamed = relative.Length == 0 ? null : destinationEntry;
        // The two listings are independent system-call-bound work: list the destination on another core, unless they are
        // a batch's few names, which cost less than the hand-over, or walkers list the destination ahead already (a
        // hand-over per directory then only wakes a pool thread to take a finished listing).
        Func<List<FileEntry>> listDestination = only is null
            ? () => ListDirectory(_destinationLister, destinationDirectory, relative, destinationNamed)
            : () => _destinationLister.ListNames(destinationDirectory, relative, only, destinationNamed);
        Task<List<FileEntry>>? pending = destinationExists && !_destinationLister.ListsAhead && (only is null || only.Count >= NamesListedInParallel)
            ? Task.Run(listDestination, _cancellation)
            : null;
        List<FileEntry> sources = [];
        List<FileEntry> destinations = [];
        SyncException? sourceError = null;
        SyncException? destinationError = null;
        try
        {
            sources = only is null
                ? ListDirectory(_sourceLister, sourceDirectory, relative, sourceNamed)
                : _sourceLister.ListNames(sourceDirectory, relative, only, sourceNamed);
        }
        catch (SyncException ex)
        {
            sourceError = ex;
        }

        if (destinationExists)
        {
            try
            {
                destinations = pending?.GetAwaiter().GetResult() ?? listDestination();
            }
            catch (SyncException ex)
            {
                destinationError = ex;
            }
        }

        if (sourceError is not null || destinationError is not null)
        {
            // Nothing in this directory pair is touched: a partial listing must never drive a deletion.
            foreach (SyncException? error in new[] { sourceError, destinationError })
            {
                if (error is not null)
                {
                    RecordScanError(error);
                }
            }

            return Content.Unknown;
        }

        if (!EnterFilters(_sourceFilter, relative, sourceDirectory))
        {
            return Content.Unknown;
        }

        bool receiverEntered = false;
        try
        {
            // The receiver reads its per-directory files only when it deletes (rsync's generator does the same).
            if (destinationExists && _options.Delete)
            {
                if (!EnterFilters(_destinationFilter, relative, destinationDirectory))
                {
                    return Content.Unknown;
                }

                receiverEntered = true;
            }

            // rsync -x deletes nothing inside a destination directory on another file system than the destination root.
            bool deletes = _options.Delete && destinationExists && !IsDestinationMountPoint(destinationEntry!);
            bool outerWhole = _whole;
            _whole = whole;
            try
            {
                return PlanEntries(relative, sources, destinations, destinationDirectory, deletes);
            }
            finally
            {
                _whole = outerWhole;
            }
        }
        finally
        {
            if (receiverEntered)
            {
                _destinationFilter.LeaveDirectory();
            }

            _sourceFilter.LeaveDirectory();
        }
    }

    /// <summary>Reads a directory's per-directory filter files; false (with a scan error, so nothing in the directory
    /// is touched) when one cannot be read. A malformed rule in one throws: it stops the run, as in rsync.</summary>
    private bool EnterFilters(FilterContext filter, string relative, string directory)
    {
        try
        {
            filter.EnterDirectory(relative, directory);
            return true;
        }
        catch (SyncException ex) when (ex.ErrorId == ErrorIds.FilterFileUnreadable)
        {
            RecordScanError(ex);
            return false;
        }
    }

    private Content PlanEntries(string relative, List<FileEntry> sources, List<FileEntry> destinations, string destinationDirectory, bool deletes)
    {
        // Only a directory planned whole is listed whole (a -Watch batch plans a few of its names).
        if (_listed is not null && _whole && _listed.TryGetValue(relative, out List<string>? names))
        {
            ReportMissing(relative, sources, names);
        }

        var selected = new List<FileEntry>(sources.Count);
        // Each selected entry's relative path, joined once (a path per file is much of what a no-change run allocates);
        // null once Fit has dropped entries, when they are joined again.
        List<string>? paths = new(sources.Count);
        foreach (FileEntry entry in sources)
        {
            string path = Join(relative, entry.Name);
            FileEntry? resolved = Select(entry, path);
            if (resolved is not null)
            {
                selected.Add(resolved);
                paths.Add(path);
                _merged?.Selected(path);
            }
        }

        Dictionary<string, int>? folded = _traits.CaseSensitive && !_traits.WindowsNamesOnly ? null : [];
        if (!_traits.HoldsEverything || _traits.MaxNameLength < 255)
        {
            selected = Fit(relative, selected, folded);
            paths = null;
        }

        // Deletions of this directory come first, as rsync's --delete-during does them; its extraneous items in reverse
        // name order, as rsync's delete_in_dir takes them (which ones -MaxDelete leaves is rsync's choice too).
        int si = 0;
        var matches = new FileEntry?[selected.Count];
        List<(FileEntry Existing, string Relative)>? extraneous = null;
        foreach (FileEntry existing in destinations)
        {
            while (si < selected.Count && string.CompareOrdinal(selected[si].Name, existing.Name) < 0)
            {
                si++;
            }

            if (si < selected.Count && selected[si].Name == existing.Name)
            {
                matches[si] = existing;
                continue;
            }

            string rel = Join(relative, existing.Name);
            if (folded is not null && folded.TryGetValue(DestinationName(existing.Name), out int same))
            {
                // A case-insensitive destination: "readme.txt" there is the source's "README.TXT" (or one of two names the
                // source spells alike, which are not written): it is updated or kept, never deleted as extraneous. So is
                // a name the source has and Windows forbids, which an earlier run or another tool may have written.
                if (same >= 0 && matches[same] is null && !destinations.Exists(other => other.Name == selected[same].Name))
                {
                    matches[same] = existing;
                }

                continue;
            }

            if (existing.Kind == EntryKind.File && TempFileNames.IsTemporary(existing.Name))
            {
                AddDelete(existing, rel, SyncReason.TemporaryFile);
            }
            else if (deletes && (_rootIsSource || relative.Length > 0))
            {
                if (_destinationFilter.Explain(rel, existing.IsDirectory) is { IsInclude: false } protecting)
                {
                    if (_verbose)
                    {
                        _observer.OnVerbose($"Not deleting '{rel}': protected by the filter rule '{protecting.Text}'");
                    }
                }
                else
                {
                    (extraneous ??= []).Add((existing, rel));
                }
            }
        }

        for (int i = (extraneous?.Count ?? 0) - 1; i >= 0; i--)
        {
            _ = PlanDeleteTree(extraneous![i].Existing, extraneous[i].Relative, SyncReason.Extraneous);
        }

        Content content = Content.None;
        for (int i = 0; i < selected.Count; i++)
        {
            string rel = paths?[i] ?? Join(relative, selected[i].Name);
            PlanMark mark = _options.PruneEmptyDirectories ? Mark() : default;
            Content entry = PlanEntry(selected[i], matches[i], rel, Path.Join(destinationDirectory, selected[i].Name));
            if (_options.PruneEmptyDirectories && selected[i].IsDirectory && entry < Content.Files)
            {
                if (_destinationFilter.Explain(rel, isDirectory: true) is { IsInclude: false } rule
                    && (rule.Type == FilterRuleType.Protect
                        || (rule.Modifiers & (FilterModifiers.ReceiverSide | FilterModifiers.SenderSide)) == FilterModifiers.ReceiverSide))
                {
                    // A rule that protects it on the receiver only ('P dir/', '-r dir') keeps it, and so its parents, as
                    // rsync's manual says of -m ("a global protect filter"). A rule of both sides does not: rsync prunes then.
                    entry = Content.Unknown;
                }
                else
                {
                    Prune(matches[i], rel, mark, entry, deletes);
                }
            }

            content = entry > content ? entry : content;
        }

        // Only part of the directory was planned: what the rest holds is not known (-PruneEmptyDirectories keeps it).
        return _whole ? content : Content.Unknown;
    }

    /// <summary>-FilesFrom: the names listed under <paramref name="relative"/> that its listing does not hold, each an
    /// error (rsync: "link_stat ... failed"); the rest of the run goes on.</summary>
    private void ReportMissing(string relative, List<FileEntry> sources, List<string> names)
    {
        foreach (string name in names)
        {
            if (!Holds(sources, name))
            {
                string path = Join(relative, name);
                RecordScanError(new SyncException(ErrorIds.FilesFromPathMissing, SyncErrorKind.NotFound,
                    $"'{path}', listed in -FilesFrom (or on the way to a listed path), does not exist in the source.", path));
            }
        }
    }

    /// <summary>Whether a listing (in ordinal name order) holds <paramref name="name"/>.</summary>
    private static bool Holds(List<FileEntry> sources, string name)
    {
        int low = 0;
        int high = sources.Count - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) / 2);
            int order = string.CompareOrdinal(sources[middle].Name, name);
            if (order == 0)
            {
                return true;
            }

            (low, high) = order < 0 ? (middle + 1, high) : (low, middle - 1);
        }

        return false;
    }

    /// <summary>-FilesFrom: the implied directories (those on the way to a listed path that are not listed themselves),
    /// each with whether a listed path below it passes <paramref name="filter"/>'s rules (as a file or as a directory: its
    /// type is not known yet; per-directory filter files are not read for this), and the listed paths.</summary>
    private static (Dictionary<string, bool>?, HashSet<string>?) ImpliedDirectories(IReadOnlyList<string>? listed, SyncFilter filter)
    {
        if (listed is null)
        {
            return (null, null);
        }

        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (string path in listed)
        {
            paths.Add(string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries)));
        }

        var implied = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (string path in paths)
        {
            bool passes = filter.Test(path, isDirectory: false) || filter.Test(path, isDirectory: true);
            for (int slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
            {
                string parent = path[..slash];
                if (!paths.Contains(parent))
                {
                    implied[parent] = (implied.TryGetValue(parent, out bool before) && before) || passes;
                }
            }
        }

        return (implied, paths);
    }

    /// <summary>-FilesFrom: whether <paramref name="relative"/> is an implied directory (on the way to a listed path, not
    /// listed itself nor below a listed directory); <paramref name="sent"/>: whether a listed path below it is sent.</summary>
    private bool IsImplied(string relative, out bool sent)
    {
        sent = false;
        if (_implied is null || !_implied.TryGetValue(relative, out sent))
        {
            return false;
        }

        for (int slash = relative.LastIndexOf('/'); slash > 0; slash = relative.LastIndexOf('/', slash - 1))
        {
            if (_listedPaths!.Contains(relative[..slash]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The listed paths' names by the directory that must hold them, each once; null without a list.</summary>
    private static Dictionary<string, List<string>>? ListedByDirectory(IReadOnlyList<string>? listed)
    {
        if (listed is null)
        {
            return null;
        }

        var byDirectory = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string path in listed)
        {
            string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            string directory = string.Empty;
            foreach (string part in parts)
            {
                string child = directory.Length == 0 ? part : directory + "/" + part;
                if (seen.Add(child))
                {
                    if (!byDirectory.TryGetValue(directory, out List<string>? names))
                    {
                        byDirectory[directory] = names = [];
                    }

                    names.Add(part);
                }

                directory = child;
            }
        }

        return byDirectory;
    }

    /// <summary>What of a directory's selected entries the destination's file system can hold: a symbolic link where it
    /// holds none (SymbolicLinkUnsupported; -CopyLinks copies what links point to instead), a name longer than it takes
    /// (NameTooLong), where names follow Windows' rules a name Windows forbids (ForbiddenName; a directory with all it
    /// holds), and, where names are case-insensitive, two names that fold to one (CaseCollision, naming both):
    /// each is an error of its own, reported before anything in the directory is written, and none of them is written,
    /// so neither file of a colliding pair silently takes the other's place. <paramref name="folded"/> (case-insensitive
    /// destinations, and those that follow Windows' rules) receives each name as the destination tells names apart
    /// (<see cref="DestinationName"/>) with the index of its entry in the result, or -1 for a collision or a name
    /// Windows forbids.</summary>
    private List<FileEntry> Fit(string relative, List<FileEntry> selected, Dictionary<string, int>? folded)
    {
        var kept = new List<FileEntry>(selected.Count);
        var collided = new HashSet<string>(StringComparer.Ordinal);
        var forbidden = new HashSet<string>(StringComparer.Ordinal);
        if (_traits.WindowsNamesOnly)
        {
            // First, so that a name never written collides with nothing: "NUL" and "nul" are two errors of their own.
            foreach (FileEntry entry in selected)
            {
                if (WindowsNames.Reason(entry.Name) is { } reason)
                {
                    string path = Join(relative, entry.Name);
                    forbidden.Add(entry.Name);
                    RecordPlanError(new SyncException(ErrorIds.ForbiddenName, SyncErrorKind.InvalidArgument,
                        $"The destination's file system ({_traits.Type}) takes only names Windows allows, and '{path}' is not one ({reason}): "
                        + (entry.IsDirectory ? "it and all it holds are" : "it is") + " not written. Rename it in the source.", path));
                }
            }
        }

        if (!_traits.CaseSensitive)
        {
            var first = new Dictionary<string, FileEntry>(StringComparer.Ordinal);
            foreach (FileEntry entry in selected)
            {
                if (forbidden.Contains(entry.Name))
                {
                    continue;
                }

                string key = FileSystemTraits.FoldName(entry.Name);
                if (first.TryGetValue(key, out FileEntry? other))
                {
                    collided.Add(key);
                    RecordPlanError(new SyncException(ErrorIds.CaseCollision, SyncErrorKind.InvalidArgument,
                        $"'{Join(relative, other.Name)}' and '{Join(relative, entry.Name)}' are one name on the destination's file system ({_traits.Type}, "
                        + $"case-insensitive) in the directory '{(relative.Length == 0 ? "." : relative)}': neither is written. Rename one of them in the source.",
                        Join(relative, entry.Name)));
                }
                else
                {
                    first.Add(key, entry);
                }
            }
        }

        foreach (FileEntry entry in selected)
        {
            string path = Join(relative, entry.Name);
            string? key = folded is null ? null : DestinationName(entry.Name);
            if (forbidden.Contains(entry.Name) || (key is not null && collided.Contains(key)))
            {
                if (key is not null)
                {
                    folded![key] = -1;
                }

                continue;
            }

            if (Native.NameCodec.GetByteCount(entry.Name) > _traits.MaxNameLength)
            {
                RecordPlanError(new SyncException(ErrorIds.NameTooLong, SyncErrorKind.InvalidArgument,
                    $"'{path}' has a name longer than the destination's file system ({_traits.Type}) takes ({_traits.MaxNameLength} bytes): it is not written.", path));
                continue;
            }

            if (entry.Kind == EntryKind.SymbolicLink && !_traits.SymbolicLinks)
            {
                RecordPlanError(new SyncException(ErrorIds.SymbolicLinkUnsupported, SyncErrorKind.InvalidArgument,
                    $"The destination's file system ({_traits.Type}) cannot hold symbolic links: '{path}' -> '{entry.LinkTarget}' is not written. "
                    + "-CopyLinks copies what links point to instead.", path));
                continue;
            }

            if (key is not null)
            {
                folded![key] = kept.Count;
            }

            kept.Add(entry);
        }

        return kept;
    }

    /// <summary>A name as the destination's file system tells names apart: folded where it ignores case.</summary>
    private string DestinationName(string name) => _traits.CaseSensitive ? name : FileSystemTraits.FoldName(name);

    /// <summary>-PruneEmptyDirectories (rsync -m): takes back what was planned for a source directory with nothing to
    /// transfer below it. One with nothing at all (after the filter) is out of the run as rsync leaves it out of its file
    /// list: under -Delete its copy in the destination is extraneous. One whose files were all left out by the transfer
    /// rules (-MinSize, -MaxSize, -MaxAge, -MinAge) is only not created: rsync would keep it in its file list (and create
    /// it), so a directory that already stands there is kept as planned, and never deleted.</summary>
    private void Prune(FileEntry? existing, string relative, PlanMark mark, Content content, bool deletes)
    {
        if (content == Content.LeftOut && existing is { IsDirectory: true })
        {
            return;
        }

        _plan.Actions.RemoveFrom(mark.Actions);
        for (int i = mark.Directories; i < _directoryOrder.Count; i++)
        {
            _plan.SourceDirectories.Remove(_directoryOrder[i]);
        }

        _directoryOrder.RemoveRange(mark.Directories, _directoryOrder.Count - mark.Directories);
        _plan.ItemsTotal = mark.Items;
        _plan.FilesTotal = mark.Files;
        _plan.TotalBytes = mark.Bytes;
        _plan.BytesToTransfer = mark.BytesToTransfer;
        if (content == Content.None && existing is not null && deletes && _destinationFilter.IsIncluded(relative, existing.IsDirectory))
        {
            _ = PlanDeleteTree(existing, relative, SyncReason.Extraneous);
        }
    }

    private PlanMark Mark() =>
        new(_plan.Actions.Count, _directoryOrder.Count, _plan.ItemsTotal, _plan.FilesTotal, _plan.TotalBytes, _plan.BytesToTransfer);

    /// <summary>-OneFileSystem: the device of the source root <paramref name="directory"/> lies under.</summary>
    private ulong SourceDeviceOf(FileEntry directory)
    {
        if (_sourceRoots is not null)
        {
            foreach ((string path, ulong device) in _sourceRoots)
            {
                if (path == "/" || (directory.FullPath.Length == path.Length ? directory.FullPath == path
                    : directory.FullPath.StartsWith(path, StringComparison.Ordinal) && directory.FullPath[path.Length] == '/'))
                {
                    return device;
                }
            }
        }

        return _sourceDevice;
    }

    private void RememberDirectory(string relative, FileEntry source)
    {
        _plan.SourceDirectories[relative] = source;
        _directoryOrder.Add(relative);
    }

    /// <summary>Notes a destination directory whose owner cannot write in it (or search it) as it stands.</summary>
    private void NoteClosed(FileEntry? directory, string relative)
    {
        if (directory is { IsDirectory: true } && (directory.Permissions & OwnerWriteSearch) != OwnerWriteSearch)
        {
            _plan.ClosedDirectories[relative] = directory.Permissions;
        }
    }

    /// <summary>-OneFileSystem: a destination directory on another device than the destination root (rsync -x leaves
    /// its contents alone when deleting, and never deletes it).</summary>
    private bool IsDestinationMountPoint(FileEntry directory) =>
        _options.OneFileSystem && directory.IsDirectory && directory.Device != _destinationDevice;

    /// <summary>Applies the filter and the link options to a source entry; null when it is not transferred.</summary>
    private FileEntry? Select(FileEntry entry, string relative)
    {
        FileEntry resolved = entry;
        if (entry.Kind == EntryKind.SymbolicLink && _options.CopyLinks
            && _selection is { } list && !list.Test(relative, isDirectory: false) && !list.Test(relative, isDirectory: true))
        {
            // Not in the -FilesFrom list whatever it points to: not followed (a dangling one is no error, as in rsync).
            return null;
        }

        if (entry.Kind == EntryKind.SymbolicLink && _options.CopyLinks)
        {
            // A side that followed links itself (an agent) lists only dangling links as links.
            int errno = Native.Posix.ENOENT;
            FileEntry? target = _sourceLister.ResolvesLinks ? null : DirectoryLister.Stat(entry.FullPath, entry.Name, follow: true, out errno);
            if (target is null)
            {
                RecordScanError(new SyncException(ErrorIds.SymbolicLinkNoReferent, SyncErrorKind.NotFound,
                    $"Symbolic link '{entry.FullPath}' has no referent ({Native.Posix.Describe(errno)}).", relative));
                return null;
            }

            resolved = target;
            if (resolved.IsDirectory)
            {
                _followedDirectories.Add(resolved);
            }
        }

        if (resolved.IsDirectory && IsImplied(relative, out bool sent))
        {
            // rsync sends a directory on the way to a listed path without asking the filter, and only for a path it sends.
            if (!sent)
            {
                if (_verbose)
                {
                    _observer.OnVerbose($"Skipping '{relative}': the -FilesFrom paths below it are excluded by the filter");
                }

                return null;
            }
        }
        else if (_sourceFilter.Explain(relative, resolved.IsDirectory) is { IsInclude: false } excluded)
        {
            if (_verbose)
            {
                _observer.OnVerbose($"Skipping '{relative}': excluded by the filter rule '{excluded.Text}'");
            }

            return null;
        }

        if (_selection is { } selection && !selection.Test(relative, resolved.IsDirectory))
        {
            // Included by a rule of the user's, but not listed (nor a listed path's parent).
            if (_verbose)
            {
                _observer.OnVerbose($"Skipping '{relative}': not in the -FilesFrom list");
            }

            return null;
        }

        if (resolved.Kind == EntryKind.Special
            || (resolved.Kind == EntryKind.SymbolicLink && (_options.Preserve & PreserveOptions.Links) == 0))
        {
            _observer.OnWarning($"Skipping non-regular file '{relative}'.");
            return null;
        }

        if (resolved.Kind.IsNode() && (_options.Preserve & resolved.Kind.PreserveFlag()) == 0)
        {
            // As rsync without -D: left out, and said so (rsync says it with -v only; a skip here is never silent).
            _observer.OnWarning($"Skipping {resolved.Kind.Describe()} '{relative}': -Preserve {resolved.Kind.PreserveFlag()} replicates it.");
            return null;
        }

        return resolved;
    }

    /// <summary>Plans one selected source entry against what stands at its place; returns what it is for
    /// -PruneEmptyDirectories (for a directory, what its subtree holds).</summary>
    private Content PlanEntry(FileEntry source, FileEntry? existing, string relative, string destinationPath)
    {
        Tick();
        _plan.ItemsTotal++;
        if (source.Kind == EntryKind.File)
        {
            _plan.FilesTotal++;
            _plan.TotalBytes += source.Length;
        }

        bool leftOut = LeftOutByTransferRules(source);
        if (!leftOut && (_options.RemoveSourceFiles ? source.Kind != EntryKind.Directory : _options.ResetArchive && source.Kind == EntryKind.File))
        {
            // Settled once the actions planned for it (all planned by this call: it is no directory) are reported.
            _destinationKept = false;
            _copyInBasis = null;
            Content planned = PlanSelected(source, existing, relative, destinationPath);
            if (!_destinationKept)
            {
                // Not one that -IgnoreExisting or -Update left as it is, or that could not replace what stands there: rsync
                // removes (and robocopy /M resets) only what it transferred or found up to date.
                _plan.SourceFiles.Add(source, _copyInBasis?.Path ?? destinationPath, relative, _plan.Actions.Count, _copyInBasis?.Basis ?? -1);
            }

            return planned;
        }

        return leftOut ? LeftOut(source, relative) : PlanSelected(source, existing, relative, destinationPath);
    }

    private Content LeftOut(FileEntry source, string relative)
    {
        if (_verbose)
        {
            _observer.OnVerbose($"Skipping '{relative}': {LeftOutReason(source)}");
        }

        return Content.LeftOut;
    }

    /// <summary>Plans a selected entry that no transfer rule leaves out.</summary>
    private Content PlanSelected(FileEntry source, FileEntry? existing, string relative, string destinationPath)
    {
        if (source.Kind == EntryKind.File && (_options.Preserve & PreserveOptions.HardLinks) != 0 && _traits.HardLinks && !(existing is null && _options.ExistingOnly)
            && PlanHardLinkFollower(source, existing, relative, destinationPath))
        {
            return Content.Files;
        }

        if (existing is null)
        {
            if (_options.ExistingOnly)
            {
                if (_verbose)
                {
                    _observer.OnVerbose($"Skipping '{relative}': not in the destination (-ExistingOnly)");
                }

                // Not looked into: as far as pruning goes, it may hold files.
                return source.IsDirectory ? Content.Unknown : Content.Files;
            }

            return PlanCreate(source, relative, destinationPath, SyncReason.New);
        }

        if (existing.Kind != source.Kind && source.Kind.IsNode() && existing.Kind.IsNode()
            && Itemizer.TypeCode(source.ItemType) == Itemizer.TypeCode(existing.ItemType))
        {
            // A FIFO where a socket is, a block device where a character device is: to rsync one item that changed (cSc...,
            // cDc...), remade in the other's place in one step.
            PlanNode(source, existing, relative, destinationPath);
            return Content.Files;
        }

        if (existing.Kind != source.Kind)
        {
            if (_options.IgnoreExisting && source.Kind == EntryKind.Directory)
            {
                // As rsync: the item that exists stays (it was deleted, without -Delete), and what the directory holds cannot
                // be written: one error for all of it (rsync reports each item).
                RecordPlanError(new SyncException(ErrorIds.ExistingItemKept, SyncErrorKind.InvalidOperation,
                    $"Cannot create the directory '{relative}': -IgnoreExisting keeps the {existing.ItemType} that stands there, so nothing in the directory is written.", relative));
                return Content.Unknown;
            }

            if (_options.IgnoreExisting)
            {
                SkipExisting(relative, destinationPath);
                return Content.Files;
            }

            if (!PlanReplace(existing, relative))
            {
                // What stands there stays: a later name of a hard-link group cannot be linked to it.
                KeepDestination(destinationPath);
                return source.IsDirectory ? Content.Unknown : Content.Files;
            }

            return PlanCreate(source, relative, destinationPath, SyncReason.TypeChanged);
        }

        switch (source.Kind)
        {
            case EntryKind.Directory:
                AttributeChanges dirChanges = CompareAttributes(source, existing);
                if (dirChanges != AttributeChanges.None)
                {
                    AddMetadata(source, existing, relative, destinationPath, dirChanges);
                }

                RememberDirectory(relative, source);
                return Descend(relative, source, destinationPath, existing);

            case EntryKind.SymbolicLink:
                PlanSymbolicLink(source, existing, relative, destinationPath);
                return Content.Files;

            case EntryKind.BlockDevice or EntryKind.CharacterDevice or EntryKind.Fifo or EntryKind.Socket:
                PlanNode(source, existing, relative, destinationPath);
                return Content.Files;

            default:
                PlanFile(source, existing, relative, destinationPath);
                return Content.Files;
        }
    }

    /// <summary>-MinSize/-MaxSize (rsync's transfer rules), -MaxAge/-MinAge (rclone's) and -ArchiveOnly (robocopy /A):
    /// they skip regular files only, and only their transfer. A skipped file stays in the file list, so its copy in the
    /// destination is not extraneous (robocopy /MIR does not purge what its attribute selection left out either).</summary>
    private bool LeftOutByTransferRules(FileEntry source)
    {
        if (source.Kind != EntryKind.File)
        {
            return false;
        }

        if ((_options.SelectsArchive && !source.IsArchive) || source.Length < _options.MinSize || source.Length > _options.MaxSize)
        {
            return true;
        }

        DateTime modified = source.LastWriteTimeUtc;
        return modified < _options.MaxAgeCutoff || modified > _options.MinAgeCutoff;
    }

    /// <summary>Why <see cref="LeftOutByTransferRules"/> left a file out, for -Verbose.</summary>
    private string LeftOutReason(FileEntry source)
    {
        if (_options.SelectsArchive && !source.IsArchive)
        {
            return $"its Archive attribute is not set ({(_options.ResetArchive ? "-ResetArchive" : "-ArchiveOnly")})";
        }

        if (source.Length < _options.MinSize)
        {
            return $"{RunReport.Bytes(source.Length)}, smaller than -MinSize ({RunReport.Bytes(_options.MinSize!.Value)})";
        }

        if (source.Length > _options.MaxSize)
        {
            return $"{RunReport.Bytes(source.Length)}, larger than -MaxSize ({RunReport.Bytes(_options.MaxSize!.Value)})";
        }

        return source.LastWriteTimeUtc < _options.MaxAgeCutoff
            ? $"modified {source.LastWriteTimeUtc:u}, before the -MaxAge cutoff ({_options.MaxAgeCutoff:u})"
            : $"modified {source.LastWriteTimeUtc:u}, after the -MinAge cutoff ({_options.MinAgeCutoff:u})";
    }

    private Content PlanCreate(FileEntry source, string relative, string destinationPath, SyncReason reason)
    {
        switch (source.Kind)
        {
            case EntryKind.Directory:
                Add(ActionKind.CreateDirectory, SyncAction.Create, source, null, relative, destinationPath, reason, Itemizer.New('c', SyncItemType.Directory));
                RememberDirectory(relative, source);
                return Descend(relative, source, destinationPath, null);

            case EntryKind.SymbolicLink:
                if (LeftOutByCompareDest(source, relative, reason))
                {
                    break;
                }

                if (_basis is { Kind: BasisKind.Link, LinksSymbolicLinks: true } && reason == SyncReason.New
                    && ExactInBasis(source, relative, out int position) is { } same)
                {
                    // -LinkDest hard-links it, as rsync's try_dests_non does (only where nothing stood: one that replaces an
                    // item of another type is made). rsync sends no such link, so -RemoveSourceFiles keeps its source.
                    Add(ActionKind.HardLink, SyncAction.Link, source, null, relative, destinationPath, reason,
                        Itemizer.Changed('h', SyncItemType.SymbolicLink, checksum: false, size: false, '.', AttributeChanges.None),
                        basis: same, itemType: SyncItemType.HardLink, basisIndex: _basis.Indexes[position]);
                    _destinationKept = true;
                    break;
                }

                Add(ActionKind.CreateSymbolicLink, SyncAction.Create, source, null, relative, destinationPath, reason, Itemizer.New('c', SyncItemType.SymbolicLink));
                break;

            case EntryKind.BlockDevice or EntryKind.CharacterDevice or EntryKind.Fifo or EntryKind.Socket:
                // Not a device, which rsync leaves out too: an agent's basis listing carries no device numbers to compare, so a
                // device is made, on every wiring alike.
                if (source.Kind is EntryKind.Fifo or EntryKind.Socket && LeftOutByCompareDest(source, relative, reason))
                {
                    break;
                }

                Add(ActionKind.CreateNode, SyncAction.Create, source, null, relative, destinationPath, reason, Itemizer.New('c', source.ItemType));
                break;

            default:
                if (_basis.Kind != BasisKind.None && PlanFromBasis(source, relative, destinationPath, reason))
                {
                    break;
                }

                Add(ActionKind.CopyFile, SyncAction.Create, source, null, relative, destinationPath, reason, Itemizer.New(_transfer, SyncItemType.File));
                _plan.BytesToTransfer += source.Length;
                break;
        }

        return Content.Files;
    }

    /// <summary>-CompareDest leaves out a link, FIFO or socket a basis directory holds unchanged, as a file (rsync's
    /// try_dests_non), where nothing stood: one that replaces an item of another type is made (rsync looks in the basis
    /// only then).</summary>
    private bool LeftOutByCompareDest(FileEntry source, string relative, SyncReason reason) =>
        _basis.Kind == BasisKind.Compare && reason == SyncReason.New && ExactInBasis(source, relative, out _) is not null;

    /// <summary>The first basis directory's item that is <paramref name="source"/> as it is (rsync's match level 3): a file
    /// that passes the quick check, or a link of the same target, with the same attributes; null where none is.</summary>
    private FileEntry? ExactInBasis(FileEntry source, string relative, out int position)
    {
        for (position = 0; position < _basis.Directories.Count; position++)
        {
            if (_basis.Find(position, relative, source.Name) is { } candidate && candidate.Kind == source.Kind
                && (source.Kind == EntryKind.SymbolicLink
                    ? string.Equals(candidate.LinkTarget, source.LinkTarget, StringComparison.Ordinal)
                    : QuickCheckPasses(source, candidate, relative))
                && CompareAttributes(source, candidate) == AttributeChanges.None)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>-Preserve HardLinks (rsync -H): the first name of a source inode is planned as usual and remembered; each
    /// later name becomes a hard link to the first one's destination, unless it already shares that file's inode and
    /// that file is not rewritten. True when <paramref name="source"/> is a later name (planned here).</summary>
    private bool PlanHardLinkFollower(FileEntry source, FileEntry? existing, string relative, string destinationPath)
    {
        SettlePendingLeader();
        var key = (source.Device, source.Inode);
        if (!_linkGroups.TryGetValue(key, out var leader))
        {
            // The first name: the caller plans it right after this returns; whether that rewrites it is settled later.
            _linkGroups[key] = (destinationPath, existing, Rewritten: true);
            _pendingLeader = (key, destinationPath, existing);
            _pendingLeaderRewritten = false;
            _pendingLeaderKept = false;
            return false;
        }

        // A later name is left alone where its own item would be: -IgnoreExisting keeps whatever exists, -Update a newer file.
        if (existing is not null && _options.IgnoreExisting)
        {
            SkipExisting(relative, destinationPath);
            return true;
        }

        if (existing is { Kind: EntryKind.File } && KeptByUpdate(source, existing, CompareTimes(source, existing)))
        {
            KeepNewer(relative, destinationPath);
            return true;
        }

        // Already a name of the first one's destination file, which stays that file: not rewritten, or rewritten in its own
        // inode (-Inplace), which this name sees too.
        if (existing is { Kind: EntryKind.File } current && (!leader.Rewritten || _options.Inplace) && leader.Existing is { Kind: EntryKind.File } first
            && current.Device == first.Device && current.Inode == first.Inode)
        {
            return true;
        }

        if (existing is not null && existing.Kind != EntryKind.File && !PlanReplace(existing, relative))
        {
            return true;
        }

        Add(ActionKind.HardLink, existing is { Kind: EntryKind.File } ? SyncAction.Update : SyncAction.Link, source, existing, relative, destinationPath,
            existing is null ? SyncReason.New : SyncReason.MetadataChanged,
            Itemizer.Changed('h', SyncItemType.File, checksum: false, size: false, '.', AttributeChanges.None),
            itemType: SyncItemType.HardLink, linkTo: leader.DestinationPath);
        return true;
    }

    /// <summary>Records whether the last leader's planning rewrote its destination file (a copy or a link action).</summary>
    private void SettlePendingLeader()
    {
        if (_pendingLeader is not { } pending)
        {
            return;
        }

        if (_pendingLeaderKept)
        {
            _ = _linkGroups.Remove(pending.Key);
        }
        else
        {
            _linkGroups[pending.Key] = (pending.DestinationPath, pending.Existing, _pendingLeaderRewritten);
        }

        _pendingLeader = null;
    }

    /// <summary>Looks for the new file in the basis directories, in order, as rsync's generator does (try_dests_reg in
    /// generator.c): the first dir whose file passes the quick check and has the same attributes is an exact match; failing
    /// that, the first whose file passes the quick check; failing that, the first that has a regular file by that name.
    /// An exact match is skipped (-CompareDest), hard-linked (-LinkDest) or copied locally (-CopyDest); a quick-check
    /// match is copied locally; any other file only serves as the delta basis. True when the file is planned here.</summary>
    private bool PlanFromBasis(FileEntry source, string relative, string destinationPath, SyncReason reason)
    {
        FileEntry? best = null;
        int level = 0;
        int bestIndex = 0;
        for (int position = 0; position < _basis.Directories.Count; position++)
        {
            FileEntry? candidate = _basis.Find(position, relative, source.Name);
            if (candidate is null || candidate.Kind != EntryKind.File)
            {
                continue;
            }

            if (level == 0)
            {
                (best, level, bestIndex) = (candidate, 1, _basis.Indexes[position]);
            }

            if (!QuickCheckPasses(source, candidate, relative))
            {
                continue;
            }

            if (level == 1)
            {
                (best, level, bestIndex) = (candidate, 2, _basis.Indexes[position]);
            }

            // Its time too, as rsync's unchanged_attrs compares it: under -Checksum or -SizeOnly the quick check passes a file
            // of another time, and a link to it would give the new copy the old time (and a later run that set the time would
            // set it through the link, in the old snapshot too).
            if (CompareAttributes(source, candidate) == AttributeChanges.None)
            {
                (best, level, bestIndex) = (candidate, 3, _basis.Indexes[position]);
                break;
            }
        }

        if (level == 0)
        {
            return false;
        }

        if (level == 3 && _basis.Kind == BasisKind.Compare)
        {
            // Left out: a later name of its hard-link group cannot be linked to it, so the next one leads.
            NoteKept(destinationPath);
            NoteCopyInBasis(best!, bestIndex);
            return true;
        }

        if (level == 3 && _basis.Kind == BasisKind.Link)
        {
            Add(ActionKind.HardLink, SyncAction.Link, source, null, relative, destinationPath, reason, Itemizer.Changed('h', SyncItemType.File, checksum: false, size: false, '.', AttributeChanges.None),
                basis: best, itemType: SyncItemType.HardLink, basisIndex: bestIndex);
            return true;
        }

        if (level >= 2)
        {
            Add(ActionKind.CopyFile, SyncAction.Create, source, null, relative, destinationPath, reason, Itemizer.New('c', SyncItemType.File),
                basis: best, copyFromBasis: true, basisIndex: bestIndex);
            return true;
        }

        Add(ActionKind.CopyFile, SyncAction.Create, source, null, relative, destinationPath, reason, Itemizer.New(_transfer, SyncItemType.File), basis: best, basisIndex: bestIndex);
        _plan.BytesToTransfer += source.Length;
        return true;
    }

    /// <summary>A destination file, up to date or not, where a basis directory holds the source's file exactly (rsync's
    /// try_dests_reg for an existing file, which runs before the quick check). -CompareDest deletes it, as the destination
    /// holds only what differs from the basis (backed up first with -Backup, which rsync skips; -RemoveSourceFiles verifies
    /// its source against the basis's file, as for a file the basis holds that the destination lacks). -LinkDest replaces
    /// it by a hard link to the basis's file unless it already is that file, so a snapshot made over an older one shares
    /// what did not change (not under -Backup, -Inplace or -DelayUpdates, whose handling of the replaced file a link would
    /// bypass). True when planned here.</summary>
    /// <param name="timeOrder">The source's time against the destination file's (<see cref="CompareTimes"/>).</param>
    private bool PlanExistingInBasis(FileEntry source, FileEntry existing, string relative, string destinationPath, int timeOrder)
    {
        if (_basis.Kind == BasisKind.Link && (_options.Backup || _options.Inplace || _options.DelayUpdates))
        {
            return false;
        }

        if (ExactInBasis(source, relative, out int position) is not { } candidate)
        {
            return false;
        }

        if (_basis.Kind == BasisKind.Compare)
        {
            AddDelete(existing, relative, SyncReason.InBasisDirectory);
            NoteKept(destinationPath);
            NoteCopyInBasis(candidate, _basis.Indexes[position]);
            return true;
        }

        if (candidate.Device == existing.Device && candidate.Inode == existing.Inode)
        {
            // Already a link to it: checked as any destination file.
            return false;
        }

        bool sizeDiffers = source.Length != existing.Length;
        AttributeChanges changes = CompareAttributes(source, existing);
        char time = !PreserveTimes ? 'T' : (changes & AttributeChanges.Times) != 0 ? 't' : '.';
        SyncReason reason = sizeDiffers ? SyncReason.SizeChanged
            : timeOrder != 0 ? SyncReason.TimeChanged
            : changes != AttributeChanges.None ? SyncReason.MetadataChanged
            : SyncReason.InBasisDirectory;
        Add(ActionKind.HardLink, SyncAction.Update, source, existing, relative, destinationPath, reason,
            Itemizer.Changed('h', SyncItemType.File, checksum: false, sizeDiffers, time, changes),
            changes, basis: candidate, itemType: SyncItemType.HardLink, basisIndex: _basis.Indexes[position]);
        return true;
    }

    /// <summary>-CopyDest: a destination file that is out of date where a basis directory holds the source's file exactly
    /// is replaced by a local copy of it (nothing is sent).</summary>
    private bool CopyExistingFromBasis(FileEntry source, FileEntry existing, string relative, string destinationPath, SyncReason reason,
        bool sizeDiffers, char time, AttributeChanges changes)
    {
        if (_options.Backup || _options.Inplace || _options.DelayUpdates)
        {
            return false;
        }

        if (ExactInBasis(source, relative, out int position) is not { } candidate)
        {
            return false;
        }

        Add(ActionKind.CopyFile, SyncAction.Update, source, existing, relative, destinationPath, reason,
            Itemizer.Changed('c', SyncItemType.File, checksum: false, sizeDiffers, time, changes),
            changes, basis: candidate, copyFromBasis: true, basisIndex: _basis.Indexes[position]);
        return true;
    }

    /// <summary>rsync's quick check of a file against another (quick_check_ok in generator.c), under the run's -CompareMode.</summary>
    private bool QuickCheckPasses(FileEntry source, FileEntry other, string relative) => source.Length == other.Length && _options.CompareMode switch
    {
        CompareMode.IgnoreTimes => false,
        CompareMode.SizeOnly => true,
        CompareMode.Checksum => ContentDiffers(source, other, relative) is null,
        _ => CompareTimes(source, other) == 0,
    };

    /// <summary>Plans removing what stands where another kind of item must go; false when that cannot be done.</summary>
    private bool PlanReplace(FileEntry existing, string relative)
    {
        if (existing.IsDirectory && !_options.Delete)
        {
            // rsync replaces a non-empty directory by a non-directory only when deletions are on (--delete implies --force).
            List<FileEntry> children;
            try
            {
                children = _destinationLister.ListVerified(existing, relative);
            }
            catch (SyncException ex)
            {
                RecordScanError(ex);
                return false;
            }

            if (children.Count > 0)
            {
                RecordPlanError(new SyncException(ErrorIds.CannotReplaceNonEmptyDirectory, SyncErrorKind.InvalidOperation,
                    $"Cannot replace the non-empty directory '{relative}' with a non-directory without -Delete.", relative));
                return false;
            }
        }

        if (!PlanDeleteTree(existing, relative, SyncReason.TypeChanged, replaces: relative))
        {
            RecordPlanError(new SyncException(ErrorIds.CannotReplaceNonEmptyDirectory, SyncErrorKind.InvalidOperation,
                $"Cannot replace the directory '{relative}' with a non-directory: it holds excluded items.", relative));
            return false;
        }

        return true;
    }

    /// <summary>A device, FIFO or socket standing where one of its class is (a device, or a FIFO or socket): made anew when
    /// its type or a device's number differs (rsync's generator deletes and recreates it then), else given the attributes
    /// that differ, as a file is.</summary>
    private void PlanNode(FileEntry source, FileEntry existing, string relative, string destinationPath) =>
        PlanRemade(source, existing, relative, destinationPath, source.Kind != existing.Kind || source.Rdev != existing.Rdev, ActionKind.CreateNode,
            source.Kind != existing.Kind ? SyncReason.TypeChanged : SyncReason.DeviceChanged);

    /// <summary>A link standing where a link is: made anew when its target differs, else given the attributes that differ.</summary>
    private void PlanSymbolicLink(FileEntry source, FileEntry existing, string relative, string destinationPath) =>
        PlanRemade(source, existing, relative, destinationPath, !string.Equals(source.LinkTarget, existing.LinkTarget, StringComparison.Ordinal),
            ActionKind.CreateSymbolicLink, SyncReason.TargetChanged);

    /// <summary>An item that has no content to update (a link, a node): made anew (<paramref name="kind"/>) when
    /// <paramref name="differs"/>, else given the attributes that differ.</summary>
    private void PlanRemade(FileEntry source, FileEntry existing, string relative, string destinationPath, bool differs, ActionKind kind, SyncReason reason)
    {
        if (_options.IgnoreExisting)
        {
            SkipExisting(relative, destinationPath);
            return;
        }

        AttributeChanges changes = CompareAttributes(source, existing);
        if (differs)
        {
            string itemize = Itemizer.Changed('c', source.ItemType, checksum: true, size: false,
                (changes & AttributeChanges.Times) != 0 ? 't' : '.', changes);
            Add(kind, SyncAction.Update, source, existing, relative, destinationPath, reason, itemize);
        }
        else if (changes != AttributeChanges.None)
        {
            AddMetadata(source, existing, relative, destinationPath, changes);
        }
        else if (_debug)
        {
            _observer.OnDebug($"'{relative}': up to date");
        }
    }

    private void PlanFile(FileEntry source, FileEntry existing, string relative, string destinationPath)
    {
        if (_options.IgnoreExisting)
        {
            SkipExisting(relative, destinationPath);
            return;
        }

        int timeOrder = CompareTimes(source, existing);
        if (KeptByUpdate(source, existing, timeOrder))
        {
            KeepNewer(relative, destinationPath);
            return;
        }

        if (_basis.Kind is BasisKind.Link or BasisKind.Compare && PlanExistingInBasis(source, existing, relative, destinationPath, timeOrder))
        {
            return;
        }

        bool sizeDiffers = source.Length != existing.Length;
        SyncReason? reason = _options.CompareMode switch
        {
            CompareMode.IgnoreTimes => SyncReason.IgnoreTimes,
            CompareMode.SizeOnly => sizeDiffers ? SyncReason.SizeChanged : null,
            CompareMode.Checksum => sizeDiffers ? SyncReason.SizeChanged : ContentDiffers(source, existing, relative),
            _ => sizeDiffers ? SyncReason.SizeChanged : timeOrder != 0 ? SyncReason.TimeChanged : null,
        };

        AttributeChanges changes = CompareAttributes(source, existing);
        if (reason is null && _options.CompareMode == CompareMode.Checksum && PreserveTimes
            && _options.ModifyWindow is null && !_options.IgnoreDaylightSavingShift
            && !_traits.SameTime(source.MtimeSeconds, source.MtimeNanoseconds, existing.MtimeSeconds, existing.MtimeNanoseconds))
        {
            // Content checked equal: the time is set exactly, not to the whole second the quick check compares (rsync's
            // ATTRS_ACCURATE_TIME after a checksum match), at the granularity the destination keeps, so that a re-run converges.
            changes |= AttributeChanges.Times;
        }

        if (reason is { } why)
        {
            char time = !PreserveTimes ? 'T' : (changes & AttributeChanges.Times) != 0 ? 't' : '.';
            if (_basis.Kind == BasisKind.Copy && CopyExistingFromBasis(source, existing, relative, destinationPath, why, sizeDiffers, time, changes))
            {
                return;
            }

            string itemize = Itemizer.Changed(_transfer, SyncItemType.File, why == SyncReason.ChecksumChanged, sizeDiffers, time, changes);
            Add(ActionKind.CopyFile, SyncAction.Update, source, existing, relative, destinationPath, why, itemize, changes);
            _plan.BytesToTransfer += source.Length;
        }
        else if (changes != AttributeChanges.None)
        {
            AddMetadata(source, existing, relative, destinationPath, changes);
        }
        else if (_debug)
        {
            _observer.OnDebug($"'{relative}': up to date");
        }
    }

    private void SkipExisting(string relative, string destinationPath)
    {
        KeepDestination(destinationPath);
        if (_verbose)
        {
            _observer.OnVerbose($"Skipping '{relative}': it exists in the destination (-IgnoreExisting)");
        }
    }

    /// <summary>-Update: the destination's copy is newer; it is left alone.</summary>
    private void KeepNewer(string relative, string destinationPath)
    {
        KeepDestination(destinationPath);
        if (_verbose)
        {
            _observer.OnVerbose($"Skipping '{relative}': the destination's copy is newer (-Update)");
        }
    }

    /// <summary>The destination's item stays as it is: its source is not removed (-RemoveSourceFiles), and it cannot lead a
    /// hard-link group.</summary>
    private void KeepDestination(string destinationPath)
    {
        _destinationKept = true;
        NoteKept(destinationPath);
    }

    /// <summary>-CompareDest: the source's file is in a basis directory instead of the destination, so -RemoveSourceFiles
    /// verifies the source against that file and removes it, as rsync does; where the basis cannot be verified (an agent
    /// without "verify-basis-copies") the source stays.</summary>
    private void NoteCopyInBasis(FileEntry basisFile, int index)
    {
        if (_basis.VerifiesCopies)
        {
            _copyInBasis = (basisFile.FullPath, index);
        }
        else
        {
            _destinationKept = true;
        }
    }

    /// <summary>The pending hard-link leader, when it is <paramref name="destinationPath"/>, holds no copy of its source.</summary>
    private void NoteKept(string destinationPath)
    {
        if (_pendingLeader is { } leader && leader.DestinationPath == destinationPath)
        {
            _pendingLeaderKept = true;
        }
    }

    private SyncReason? ContentDiffers(FileEntry source, FileEntry existing, string relative)
    {
        try
        {
            UInt128 sourceHash = _sourceLister.Checksum(source) ?? ContentHash(source.FullPath);
            UInt128 existingHash = _destinationLister.Checksum(existing) ?? ContentHash(existing.FullPath);
            return sourceHash == existingHash ? null : SyncReason.ChecksumChanged;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            RecordScanError(new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError,
                $"Cannot read '{relative}' to compare checksums: {ex.Message}", relative, ex));
            return null;
        }
    }

    internal static UInt128 ContentHash(string path)
    {
        var hash = new XxHash128();
        // Opened by the backend (Posix), not System.IO: a name that is not UTF-8 is opened by its own bytes.
        SafeFileHandle file = Native.Posix.Open(path, Native.Posix.ORdOnly, 0, out int errno)
            ?? throw (errno == Native.Posix.EACCES ? new UnauthorizedAccessException($"'{path}': {Native.Posix.Describe(errno)}")
                : new IOException($"'{path}': {Native.Posix.Describe(errno)}"));
        using var stream = new FileStream(file, FileAccess.Read, 1 << 16);
        hash.Append(stream);
        return hash.GetCurrentHashAsUInt128();
    }

    /// <summary>Plans deleting an item, a directory's contents first. Returns false when something must stay: a
    /// directory that keeps excluded (protected) items, or whose listing failed, is itself kept, as rsync keeps it
    /// ("cannot delete non-empty directory") without calling it an error.</summary>
    private bool PlanDeleteTree(FileEntry existing, string relative, SyncReason reason, string? replaces = null)
    {
        if (IsDestinationMountPoint(existing))
        {
            // rsync -x: "cannot delete mount point"; it keeps its parents too.
            _observer.OnWarning($"Keeping '{relative}': it is a mount point (another file system than the destination's), and -OneFileSystem does not cross into it.");
            return false;
        }

        if (existing.IsDirectory)
        {
            NoteClosed(existing, relative);
            List<FileEntry> children;
            try
            {
                children = _destinationLister.ListVerified(existing, relative);
            }
            catch (SyncException ex)
            {
                RecordScanError(ex);
                return false;
            }

            // rsync reads the per-directory files of a directory it deletes too, and ignores perishable rules there.
            if (_options.Delete && !EnterFilters(_destinationFilter, relative, existing.FullPath))
            {
                return false;
            }

            bool emptied = true;
            try
            {
                // Reverse name order, as rsync deletes a directory's contents.
                for (int i = children.Count - 1; i >= 0; i--)
                {
                    FileEntry child = children[i];
                    string rel = Join(relative, child.Name);
                    if (child.Kind == EntryKind.File && TempFileNames.IsTemporary(child.Name))
                    {
                        AddDelete(child, rel, SyncReason.TemporaryFile);
                    }
                    else if (_destinationFilter.IsIncluded(rel, child.IsDirectory, ignorePerishable: true))
                    {
                        emptied &= PlanDeleteTree(child, rel, reason, replaces);
                    }
                    else
                    {
                        emptied = false;
                        if (_verbose)
                        {
                            _observer.OnVerbose($"Not deleting '{rel}': protected by the filter rule "
                                + $"'{_destinationFilter.Explain(rel, child.IsDirectory, ignorePerishable: true)?.Text}'");
                        }
                    }
                }
            }
            finally
            {
                if (_options.Delete)
                {
                    _destinationFilter.LeaveDirectory();
                }
            }

            if (!emptied)
            {
                _observer.OnWarning($"Keeping the directory '{relative}': it holds excluded items{(_options.OneFileSystem ? " or a mount point" : string.Empty)}.");
                return false;
            }
        }

        AddDelete(existing, relative, reason, replaces);
        return true;
    }

    private AttributeChanges CompareAttributes(FileEntry source, FileEntry existing)
    {
        AttributeChanges changes = AttributeChanges.None;
        if (_options.LinkAttributesFixed && source.Kind == EntryKind.SymbolicLink)
        {
            return changes;
        }

        PreserveOptions preserve = _options.Preserve;
        if ((preserve & PreserveOptions.Times) != 0 && !(_options.OmitDirectoryTimes && source.IsDirectory) && !SameTimes(source, existing))
        {
            changes |= AttributeChanges.Times;
        }

        if ((preserve & PreserveOptions.Permissions) != 0 && _traits.Permissions && source.Kind != EntryKind.SymbolicLink && source.Permissions != existing.Permissions)
        {
            changes |= AttributeChanges.Permissions;
        }

        if ((preserve & PreserveOptions.Owner) != 0 && _traits.Owners && source.Uid != existing.Uid)
        {
            changes |= AttributeChanges.Owner;
        }

        if ((preserve & PreserveOptions.Group) != 0 && _traits.Owners && source.Gid != existing.Gid)
        {
            changes |= AttributeChanges.Group;
        }

        if ((preserve & PreserveOptions.Attributes) != 0 && source.Kind != EntryKind.SymbolicLink && source.Attributes != existing.Attributes)
        {
            changes |= AttributeChanges.FileAttributes;
        }

        changes = _extendedAttributes.Compare(source, existing, changes);
        return changes;
    }

    /// <summary>Whether the times are equal for <see cref="CompareAttributes"/>: as <see cref="CompareTimes"/> says, except for a
    /// directory under <see cref="SyncOptions.ExactDirectoryTimes"/> without -ModifyWindow (the destination's granularity).</summary>
    private bool SameTimes(FileEntry source, FileEntry existing) =>
        source.Kind == EntryKind.Directory && _options.ExactDirectoryTimes && _options.ModifyWindow is null
            ? _traits.SameTime(source.MtimeSeconds, source.MtimeNanoseconds, existing.MtimeSeconds, existing.MtimeNanoseconds)
            : CompareTimes(source, existing) == 0;

    /// <summary>Orders the two modification times: 0 when equal within -ModifyWindow. As in rsync, the default window 0
    /// compares whole seconds, a negative window compares nanoseconds too, and N treats times N seconds apart as equal.
    /// Without -ModifyWindow, a destination file system that keeps coarser times (FAT's 2 s) is compared at its
    /// granularity; -IgnoreDaylightSavingShift also takes times exactly one hour apart (at that granularity) as equal.</summary>
    /// <summary>-Update leaves the destination's file alone (its attributes too): it is newer than the source, or, with a
    /// -ModifyWindow of whole seconds, the source is not newer by the window at least (rsync -u: the source's time less
    /// the destination's below the window; so times within the window keep the file as it is, mode and all).</summary>
    private bool KeptByUpdate(FileEntry source, FileEntry existing, int timeOrder) =>
        _options.Update && (_options.ModifyWindow is int window && window > 0
            ? source.MtimeSeconds - existing.MtimeSeconds < window
            : timeOrder < 0);

    private int CompareTimes(FileEntry source, FileEntry existing)
    {
        int order;
        if (_options.ModifyWindow is { } window)
        {
            order = window < 0 ? Nanoseconds(source, existing)
                : Math.Abs(source.MtimeSeconds - existing.MtimeSeconds) <= window ? 0 : Math.Sign(source.MtimeSeconds - existing.MtimeSeconds);
        }
        else
        {
            order = _traits.TimeGranularity > 1_000_000_000
                ? (_traits.SameTime(source.MtimeSeconds, source.MtimeNanoseconds, existing.MtimeSeconds, existing.MtimeNanoseconds) ? 0 : Nanoseconds(source, existing))
                : source.MtimeSeconds.CompareTo(existing.MtimeSeconds);
        }

        if (order != 0 && _options.IgnoreDaylightSavingShift)
        {
            // One hour either way, within the granularity (at least a whole second, as the default comparison).
            long step = Math.Max(_traits.TimeGranularity, 1_000_000_000);
            long apart = Math.Abs(((source.MtimeSeconds - existing.MtimeSeconds) * 1_000_000_000) + ((long)source.MtimeNanoseconds - existing.MtimeNanoseconds));
            if (Math.Abs(apart - 3_600_000_000_000) < step)
            {
                return 0;
            }
        }

        return order;

        static int Nanoseconds(FileEntry a, FileEntry b)
        {
            int seconds = a.MtimeSeconds.CompareTo(b.MtimeSeconds);
            return seconds != 0 ? seconds : a.MtimeNanoseconds.CompareTo(b.MtimeNanoseconds);
        }
    }

    private void Add(ActionKind kind, SyncAction action, FileEntry? source, FileEntry? existing, string relative, string destinationPath,
        SyncReason reason, string itemize, AttributeChanges changes = AttributeChanges.None, FileEntry? basis = null, bool copyFromBasis = false,
        SyncItemType? itemType = null, string? linkTo = null, int basisIndex = 0, bool fromSource = true, string? replaces = null)
    {
        FileEntry described = source ?? existing!;
        _extendedAttributes.Load(source);
        var item = new SyncItem(action, itemType ?? described.ItemType, relative, reason, itemize)
        {
            Length = described.Length,
            LastWriteTimeUtc = described.LastWriteTimeUtc,
            LinkTarget = described.LinkTarget,
            DestinationPath = destinationPath,
            SourcePath = fromSource ? source?.FullPath : null,
            PreviousLength = existing?.Length,
            PreviousLastWriteTimeUtc = existing?.LastWriteTimeUtc,
        };
        if (_pendingLeader is { } leader && kind is ActionKind.CopyFile or ActionKind.HardLink && destinationPath == leader.DestinationPath)
        {
            _pendingLeaderRewritten = true;
        }

        _plan.Actions.Add(new PlannedAction(kind, item, source, existing) { Changes = changes, Basis = basis, CopyFromBasis = copyFromBasis, LinkTo = linkTo, BasisIndex = basisIndex, Replaces = replaces });
        if (_debug)
        {
            _observer.OnDebug($"'{relative}': {item.Itemize} {action} {item.ItemType} ({reason}){(basis is null ? string.Empty : ", basis " + basis.FullPath)}"
                + (linkTo is null ? string.Empty : ", linked to " + linkTo));
        }
    }

    private void AddMetadata(FileEntry source, FileEntry existing, string relative, string destinationPath, AttributeChanges changes)
    {
        string itemize = Itemizer.Changed('.', source.ItemType, checksum: false, size: false,
            (changes & AttributeChanges.Times) != 0 ? 't' : '.', changes);
        Add(ActionKind.Metadata, SyncAction.Metadata, source, existing, relative, destinationPath, SyncReason.MetadataChanged, itemize, changes);
    }

    private void AddDelete(FileEntry existing, string relative, SyncReason reason, string? replaces = null) =>
        Add(ActionKind.Delete, SyncAction.Delete, null, existing, relative, existing.FullPath, reason, Itemizer.Deleting, replaces: replaces);

    /// <summary>An error the plan itself meets (not a read error): reported and counted, but deletions still go ahead.</summary>
    private void RecordPlanError(SyncException error)
    {
        _plan.PlanErrors++;
        _observer.OnError(error);
    }

    private void RecordScanError(SyncException error)
    {
        _plan.MutableScanErrors.Add(error);
        _observer.OnError(error);
    }

    /// <summary>How much the run may allocate between the collections <see cref="CollectListings"/> asks for.</summary>
    private const long ListingGarbageBytes = 16L << 20;

    /// <summary>The process's allocation count at the last collection asked for, or at this plan's start: counted from 0,
    /// every plan in a long-lived process (each -Watch batch) forced a blocking collection at its first directory.</summary>
    private long _collectedAt = GC.GetTotalAllocatedBytes();

    /// <summary>A walk allocates a listing per directory and keeps almost none of it; the host process's first
    /// generation, though, is sized by the runtime from the processor's cache (about 80 MB here: three collections in a
    /// no-change plan of 300,000 files, whose peak was 85 MB above PowerShell's baseline). Asking for a collection of that
    /// generation after every 16 MB allocated (one per some 30,000 entries, well under a millisecond each with so little
    /// alive) keeps the peak about 25 MB above the baseline at any tree size.</summary>
    private void CollectListings()
    {
        long allocated = GC.GetTotalAllocatedBytes();
        if (allocated - _collectedAt > ListingGarbageBytes)
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            _collectedAt = allocated;
        }
    }

    private void Tick()
    {
        _scanned++;
        long now = Environment.TickCount64;
        if (now >= _nextProgress)
        {
            _nextProgress = now + ProgressIntervalMs;
            _cancellation.ThrowIfCancellationRequested();
            _observer.OnProgress(new SyncProgress { Phase = SyncPhase.Scanning, ItemsScanned = _scanned });
        }
    }

    private static string Join(string relative, string name) => relative.Length == 0 ? name : relative + "/" + name;

    /// <summary>What a selected source entry is to -PruneEmptyDirectories; for a directory, the most its subtree holds.</summary>
    private enum Content
    {
        /// <summary>Nothing but directories (after the filter): rsync -m prunes it.</summary>
        None,

        /// <summary>Regular files all left out by -MinSize, -MaxSize, -MaxAge or -MinAge.</summary>
        LeftOut,

        /// <summary>A file or link to transfer (or up to date).</summary>
        Files,

        /// <summary>Not known (a listing failed, a loop, not entered): kept as if it held files.</summary>
        Unknown,
    }

    /// <summary>Where the plan stood before an entry was planned.</summary>
    private readonly record struct PlanMark(int Actions, int Directories, long Items, long Files, long Bytes, long BytesToTransfer);
}
