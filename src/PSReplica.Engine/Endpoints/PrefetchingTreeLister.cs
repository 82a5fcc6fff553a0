using System.Runtime.CompilerServices;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>Lists directories ahead of the planner on a few walker threads, so that a scan of a cold tree keeps several
/// getdents and statx calls in flight instead of one per side (issue 18: a no-change run on a cold cache waits on the
/// disk for almost all of its time). The planner still asks for every listing in its own order and gets exactly what
/// <see cref="ITreeLister.List"/> of the inner lister would give it; it only waits less.
/// <para>When the planner takes a listing, the subdirectories in it are queued; a walker that finishes a listing queues
/// that directory's subdirectories too, so the walk ahead also goes down chains of single directories. Walkers take the
/// queued directory the planner will reach first (depth-first, ordinal name order: its own order), and stop while
/// <see cref="MaxListings"/> listings or <see cref="MaxEntries"/> entries are held ahead, so the memory held is bounded
/// whatever the tree. What the planner has passed without asking for it (a directory a per-directory filter file
/// excludes, say) is dropped unread or unreported: a listing is only ever reported, error or not, by the planner's own
/// call, at the item it would have been reported at anyway.</para>
/// <para>A directory listed ahead is listed by <see cref="ITreeLister.ListVerified"/>: opened without following a link
/// and checked to be the directory its parent's listing named, since a walker may list it a little earlier than the
/// planner would have (and a directory swapped after that is not followed either: the planner gets what was there).
/// Directories the walk is told to leave alone (<c>descends</c>: the filter's static rules; -OneFileSystem: another
/// device than the parent's) are not listed ahead; if the planner asks for one after all, it is listed then, as
/// before.</para></summary>
internal sealed class PrefetchingTreeLister : ITreeLister, IDisposable
{
    /// <summary>Walker threads per side to begin with: enough to keep a disk's queue busy, few enough to leave the cores to
    /// the planner (they mostly wait on the disk).</summary>
    public const int DefaultWalkers = 6;

    /// <summary>Walker threads per side at most: more are started, one at a time, while the planner reaches directories
    /// that no walker has begun (see <see cref="Grow"/>).</summary>
    public const int MaxWalkers = 16;

    /// <summary>Listings held ahead of the planner at most (being read or read), per side.</summary>
    public const int MaxListings = 96;

    /// <summary>Entries held ahead of the planner at most (about 200 bytes each), per side: no walker starts a listing
    /// while more are held.</summary>
    public const int MaxEntries = 32 * 1024;

    private readonly ITreeLister _inner;
    private readonly Func<string, bool>? _descends;
    private readonly bool _oneFileSystem;
    private readonly object _gate = new();

    // Known directories by full path: queued, being listed, or listed and not yet taken.
    private readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly SortedSet<Job> _queued = new(JobOrder.Instance);
    private readonly SortedSet<Job> _ahead = new(JobOrder.Instance);
    private readonly List<Thread> _walkers = [];
    private readonly int _maxWalkers;
    private readonly CancellationTokenRegistration _registration;
    private readonly int _maxListings;
    private readonly int _maxEntries;
    private int _aheadCount;
    private int _listing;
    private int _idleWaiters;
    private long _heldEntries;
    private string? _passed;
    private bool _stopped;

    /// <param name="inner">The lister that reads the directories.</param>
    /// <param name="descends">Whether the planner may enter a directory (by its relative path), when known up front;
    /// null: every directory. A false is never an error: the directory is only not listed ahead.</param>
    /// <param name="oneFileSystem">-OneFileSystem on this side: a subdirectory on another device than its parent is not
    /// listed ahead (the planner does not enter it).</param>
    /// <param name="walkers">Walker threads to begin with; 0 for a test that runs the walk itself (<see cref="ListOneAhead"/>).</param>
    /// <param name="maxWalkers">Walker threads at most (no fewer than <paramref name="walkers"/>; none are added to a lister
    /// that begins with none).</param>
    /// <param name="maxListings">Listings held ahead at most (tests make the window small).</param>
    /// <param name="maxEntries">Entries held ahead before no walker starts another listing.</param>
    public PrefetchingTreeLister(ITreeLister inner, Func<string, bool>? descends, bool oneFileSystem, CancellationToken cancellation,
        int walkers = DefaultWalkers, int maxListings = MaxListings, int maxEntries = MaxEntries, int maxWalkers = MaxWalkers)
    {
        _maxListings = maxListings;
        _maxEntries = maxEntries;
        _inner = inner;
        _descends = descends;
        _oneFileSystem = oneFileSystem;
        _maxWalkers = walkers == 0 ? 0 : Math.Max(walkers, maxWalkers);
        for (int i = 0; i < walkers; i++)
        {
            StartWalker();
        }

        _registration = cancellation.Register(Stop);
    }

    /// <summary>How many listings the planner took from a walker (tests and -Debug).</summary>
    public int Hits { get; private set; }

    public Func<string, string?>? FilterFileReader => _inner.FilterFileReader;

    public bool ResolvesLinks => _inner.ResolvesLinks;

    public bool ListsAhead => _maxWalkers > 0;

    /// <summary>Walker threads started so far (tests).</summary>
    internal int Walkers
    {
        get
        {
            lock (_gate)
            {
                return _walkers.Count;
            }
        }
    }

    public UInt128? Checksum(FileEntry entry) => _inner.Checksum(entry);

    public Metadata.ExtendedAttributeSet? ExtendedAttributes(FileEntry entry, Metadata.XattrScope scope) => _inner.ExtendedAttributes(entry, scope);

    public FileSystemTraits Traits(string fullPath, ulong? device, bool measure) => _inner.Traits(fullPath, device, measure);

    /// <summary>Both sides' listers for a local run, or none where listing ahead would only read what the run does not
    /// need (-Watch's batches plan a few names each).</summary>
    public static Pair ForLocalRun(SyncOptions options, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Scope is { IsEverything: false })
        {
            return new Pair(null, null);
        }

        return new Pair(
            new PrefetchingTreeLister(LocalTreeLister.Instance, Descends(options.Filter), options.OneFileSystem, cancellation),
            new PrefetchingTreeLister(LocalTreeLister.Instance, Descends(options.Filter), oneFileSystem: false, cancellation));
    }

    /// <summary>Whether the planner may enter a directory, by the filter's own rules (per-directory files unread: a
    /// dir-merge rule can only make the planner skip more, or enter what is then listed on demand); null: no rules. The
    /// predicate is called under one lister's lock only (its context is not shared).</summary>
    internal static Func<string, bool>? Descends(SyncFilter filter)
    {
        if (filter.Rules.Count == 0)
        {
            return null;
        }

        FilterContext context = filter.CreateContext(FilterSide.Sender, null, readFile: static _ => null);
        return relative => context.IsIncluded(relative, isDirectory: true);
    }

    public List<FileEntry> List(string fullPath, string relative) => Take(fullPath, relative, null);

    /// <summary>As <see cref="List"/>; a directory no walker has queued is listed only while it is still
    /// <paramref name="directory"/> (see <see cref="ITreeLister.ListVerified"/>).</summary>
    public List<FileEntry> ListVerified(FileEntry directory, string relative) => Take(directory.FullPath, relative, directory);

    /// <summary>The listing of a directory the planner reached: taken from the walker that read it, waited for while one
    /// reads it, or read here (verified against its queued entry, else <paramref name="expected"/>, else by path).</summary>
    private List<FileEntry> Take(string fullPath, string relative, FileEntry? expected)
    {
        Job? job;
        FileEntry? named = expected;
        lock (_gate)
        {
            Pass(relative);
            if (_jobs.Remove(fullPath, out job))
            {
                if (job.State == JobState.Queued)
                {
                    _queued.Remove(job);
                    named = job.Directory;
                    job = null;
                    Grow();
                }
            }
        }

        if (job is not null)
        {
            // Waited for on the job, not on the gate: the walkers' own waits there are woken one per listing that may start,
            // never all of them for every directory the planner takes (on a loaded two-core machine each of those wake-ups
            // was a context switch: issue 18).
            job.WaitListed();
            lock (_gate)
            {
                Release(job);
                Hits += job.Entries is not null || job.Error is not null ? 1 : 0;
            }
        }

        List<FileEntry> entries;
        if (job is { Entries: { } listed })
        {
            entries = listed;
        }
        else if (job is { Error: { } error })
        {
            // The planner's own call reports it, at the item it always did.
            throw error;
        }
        else
        {
            // A directory queued from its parent's listing but not begun, or one the planner names by its entry, is listed
            // here as a walker would have listed it: only while it is still the directory that listing named (not a link
            // swapped in since, which List follows).
            entries = named is not null ? _inner.ListVerified(named, relative) : _inner.List(fullPath, relative);
            ulong? device = _oneFileSystem ? DeviceOf(fullPath) : null;
            lock (_gate)
            {
                Queue(entries, relative, device);
            }
        }

        return entries;
    }

    /// <summary>Lists the first queued directory on the calling thread; false when none is queued (tests without
    /// walkers).</summary>
    internal bool ListOneAhead()
    {
        Job? job;
        lock (_gate)
        {
            job = Take();
        }

        if (job is null)
        {
            return false;
        }

        Run(job);
        return true;
    }

    /// <summary>Waits until no directory is queued or being listed ahead (tests: a walk that has gone as far as it may),
    /// but for <paramref name="stillListing"/> listings a test holds.</summary>
    internal void WaitUntilIdle(int stillListing = 0)
    {
        lock (_gate)
        {
            _idleWaiters++;
            try
            {
                while (!_stopped && ((_queued.Count > 0 && CanStart()) || _listing > stillListing))
                {
                    Monitor.Wait(_gate);
                }
            }
            finally
            {
                _idleWaiters--;
            }
        }
    }

    /// <summary>Listings being read or read ahead and not yet taken (tests: the window's bound).</summary>
    internal int ListingsAhead
    {
        get
        {
            lock (_gate)
            {
                return _aheadCount;
            }
        }
    }

    /// <summary>Whether <paramref name="fullPath"/> has been listed ahead and waits for the planner (tests).</summary>
    internal bool HoldsListing(string fullPath)
    {
        lock (_gate)
        {
            return _jobs.TryGetValue(fullPath, out Job? job) && job.State == JobState.Listed;
        }
    }

    public void Dispose()
    {
        Stop();
        Thread[] walkers;
        lock (_gate)
        {
            walkers = [.. _walkers];
        }

        foreach (Thread walker in walkers)
        {
            walker.Join();
        }

        _registration.Dispose();
        lock (_gate)
        {
            _jobs.Clear();
            _queued.Clear();
            _ahead.Clear();
            _heldEntries = 0;
        }
    }

    private void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Starts one more walker (under the lock, or before any runs).</summary>
    private void StartWalker()
    {
        // Threads of their own, not the pool's: they block in system calls. Started in the run's flow (here, or by the
        // planner's List), they inherit its file-system backend (an AsyncLocal).
        var walker = new Thread(Walk, 256 * 1024) { IsBackground = true, Name = "PSReplica scan ahead" };
        _walkers.Add(walker);
        walker.Start();
    }

    /// <summary>The planner reached a directory that was queued and that no walker had begun (under the lock): every
    /// walker was busy, mostly waiting on the disk on a cold cache, while a listing could have started. One more walker
    /// keeps one more request in flight; on a warm cache the walkers stay ahead and none is added.</summary>
    private void Grow()
    {
        if (!_stopped && _walkers.Count > 0 && _walkers.Count < _maxWalkers && _listing >= _walkers.Count && CanStart())
        {
            StartWalker();
        }
    }

    private void Walk()
    {
        while (true)
        {
            Job? job;
            lock (_gate)
            {
                while ((job = Take()) is null)
                {
                    if (_stopped)
                    {
                        return;
                    }

                    Monitor.Wait(_gate);
                }
            }

            Run(job);
        }
    }

    /// <summary>The queued directory the planner reaches first, marked as being listed; null when none may start.</summary>
    private Job? Take()
    {
        if (_stopped || _queued.Count == 0 || !CanStart())
        {
            return null;
        }

        Job job = _queued.Min!;
        _queued.Remove(job);
        job.State = JobState.Listing;
        _listing++;
        _ahead.Add(job);
        _aheadCount++;
        return job;
    }

    private bool CanStart() => _aheadCount < _maxListings && _heldEntries < _maxEntries;

    private void Run(Job job)
    {
        List<FileEntry>? entries = null;
        SyncException? error = null;
        try
        {
            entries = _inner.ListVerified(job.Directory, job.Relative);
        }
        catch (SyncException ex)
        {
            error = ex;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Not a lister's own report (and a walker's thread must not end the process): the planner lists the
            // directory itself and meets whatever it meets, on its own thread.
        }

        lock (_gate)
        {
            job.Entries = entries;
            job.Error = error;
            _listing--;
            if (job.Abandoned)
            {
                // Its slot is free again: this walker looks for the next listing itself.
                _aheadCount--;
            }
            else
            {
                _heldEntries += entries?.Count ?? 0;
                if (entries is not null)
                {
                    Queue(entries, job.Relative, job.Directory.Device);
                }
            }

            job.SetListed();
            if (_idleWaiters > 0)
            {
                Monitor.PulseAll(_gate);
            }
        }

        job.SignalListed();
    }

    /// <summary>Queues the subdirectories of a listing that the walk may enter (under the lock).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Queue(List<FileEntry> entries, string relative, ulong? device)
    {
        if (_stopped)
        {
            return;
        }

        int queued = 0;
        foreach (FileEntry entry in entries)
        {
            if (entry.Kind != EntryKind.Directory || (device is { } parent && entry.Device != parent) || _jobs.ContainsKey(entry.FullPath))
            {
                continue;
            }

            string path = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            if ((_passed is not null && JobOrder.Compare(path, _passed) <= 0) || (_descends is not null && !_descends(path)))
            {
                continue;
            }

            var job = new Job(entry, path);
            _jobs.Add(entry.FullPath, job);
            _queued.Add(job);
            queued++;
        }

        if (queued > 0 && CanStart())
        {
            WakeWalkers(queued);
        }
    }

    /// <summary>Wakes walkers for <paramref name="listings"/> listings that may start (under the lock): one each, so that
    /// the others sleep on; all of them when a test waits on the gate too (a single wake-up could reach it instead).</summary>
    private void WakeWalkers(int listings)
    {
        if (_idleWaiters > 0 || listings >= _walkers.Count)
        {
            Monitor.PulseAll(_gate);
            return;
        }

        for (int i = 0; i < listings; i++)
        {
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>The planner asks for <paramref name="relative"/>: it walks in order, so what comes before it and was not
    /// asked for will never be (under the lock).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Pass(string relative)
    {
        _passed = relative;
        while (_queued.Count > 0 && JobOrder.Compare(_queued.Min!.Relative, relative) < 0)
        {
            Job skipped = _queued.Min!;
            _queued.Remove(skipped);
            _jobs.Remove(skipped.Directory.FullPath);
        }

        while (_ahead.Count > 0 && JobOrder.Compare(_ahead.Min!.Relative, relative) < 0)
        {
            Job skipped = _ahead.Min!;
            _jobs.Remove(skipped.Directory.FullPath);
            if (skipped.State == JobState.Listing)
            {
                // Its walker lets go of it when done.
                _ahead.Remove(skipped);
                skipped.Abandoned = true;
            }
            else
            {
                Release(skipped);
            }
        }

        if (_idleWaiters > 0)
        {
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>A listed job leaves the window ahead (under the lock).</summary>
    private void Release(Job job)
    {
        if (_ahead.Remove(job))
        {
            _aheadCount--;
            _heldEntries -= job.Entries?.Count ?? 0;
            if (_queued.Count > 0 && CanStart())
            {
                WakeWalkers(1);
            }
        }
    }

    private static ulong? DeviceOf(string fullPath) =>
        Native.Posix.Stat(fullPath, follow: true, out Native.StatInfo stat) == 0 ? stat.Device : null;

    /// <summary>The two sides' listers of one run; null where the run lists on demand only.</summary>
    internal sealed class Pair(PrefetchingTreeLister? source, PrefetchingTreeLister? destination) : IDisposable
    {
        public PrefetchingTreeLister? Source => source;

        public PrefetchingTreeLister? Destination => destination;

        /// <summary>Makes a plan with these listers and stops them when the planning ends: at once, or when a plan made on
        /// a thread of its own (<see cref="SyncPlan.Planning"/>) is done.</summary>
        public SyncPlan Plan(Func<ITreeLister?, ITreeLister?, SyncPlan> plan)
        {
            SyncPlan made;
            try
            {
                made = plan(source, destination);
            }
            catch
            {
                Dispose();
                throw;
            }

            if (made.Planning is { IsCompleted: false } planning)
            {
                _ = planning.ContinueWith(static (_, pair) => ((Pair)pair!).Dispose(), this, CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            else
            {
                Dispose();
            }

            return made;
        }

        public void Dispose()
        {
            source?.Dispose();
            destination?.Dispose();
        }
    }

    private enum JobState
    {
        Queued,
        Listing,
        Listed,
    }

    private sealed class Job(FileEntry directory, string relative)
    {
        private readonly object _signal = new();

        public FileEntry Directory => directory;

        public string Relative => relative;

        /// <summary>Written under the lister's gate; read there, or under the job's own lock by <see cref="WaitListed"/>.</summary>
        public JobState State { get; set; }

        /// <summary>Passed by the planner while being listed: dropped when done.</summary>
        public bool Abandoned { get; set; }

        public List<FileEntry>? Entries { get; set; }

        public SyncException? Error { get; set; }

        /// <summary>Marks the job listed (under the lister's gate, before <see cref="SignalListed"/>).</summary>
        public void SetListed()
        {
            lock (_signal)
            {
                State = JobState.Listed;
            }
        }

        /// <summary>Wakes the planner if it waits for this listing (after the gate is left).</summary>
        public void SignalListed()
        {
            lock (_signal)
            {
                Monitor.PulseAll(_signal);
            }
        }

        /// <summary>Waits until the job is listed (outside the lister's gate).</summary>
        public void WaitListed()
        {
            lock (_signal)
            {
                while (State != JobState.Listed)
                {
                    Monitor.Wait(_signal);
                }
            }
        }
    }

    /// <summary>The planner's order: depth-first, names in ordinal order, a directory before what it holds.</summary>
    private sealed class JobOrder : IComparer<Job>
    {
        public static JobOrder Instance { get; } = new();

        public int Compare(Job? x, Job? y)
        {
            int order = Compare(x!.Relative, y!.Relative);
            return order != 0 ? order : string.CompareOrdinal(x.Directory.FullPath, y.Directory.FullPath);
        }

        /// <summary>Relative paths in walk order: as ordinal strings, but with '/' before every other character, so
        /// that "a/z" (inside "a") comes before "a-b" (after "a").</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static int Compare(string x, string y)
        {
            int length = Math.Min(x.Length, y.Length);
            for (int i = 0; i < length; i++)
            {
                char a = x[i];
                char b = y[i];
                if (a != b)
                {
                    return a == '/' ? -1 : b == '/' ? 1 : a.CompareTo(b);
                }
            }

            return x.Length.CompareTo(y.Length);
        }
    }
}
