using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Planning;

/// <summary>The source files a run settles once their copies are verified (-RemoveSourceFiles removes them, -ResetArchive
/// clears their Archive attribute), in plan order, each with how many actions had been planned when it was (its own
/// included), so that it is settled only once they are all reported. A plan made before it runs holds them all and the
/// runner settles them at the end. A streamed plan's runner settles each one as soon as the reports reach it (rsync
/// removes a source file as soon as the receiver has it), on a thread of its own (<see cref="BeginSettling"/>); the
/// planner then waits while <see cref="Capacity"/> files are still to be settled, so a run over a million files holds a
/// window of them instead of every one until the end.</summary>
internal sealed class SourceFileQueue
{
    private readonly object _gate = new();
    private readonly Queue<SourceFile> _files = new();
    private int _reported;
    private bool _completed = true;
    private bool _settling;
    private bool _unbounded;
    private bool _abandoned;
    private bool _ignored;
    private int _heldAtMost;

    /// <summary>How many files the planner may be ahead of their settling: a few times what the copy workers have in
    /// flight, small beside a large tree (an entry and two paths each).</summary>
    public const int Capacity = 2048;

    /// <summary>The most files held at once (tests watch the bound through it).</summary>
    internal int HeldAtMost
    {
        get
        {
            lock (_gate)
            {
                return _heldAtMost;
            }
        }
    }

    /// <summary>Files added and not yet taken.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _files.Count;
            }
        }
    }

    /// <summary>Before a streamed plan's planning starts: files will be added while the plan runs.</summary>
    public void BeginStreaming()
    {
        lock (_gate)
        {
            _completed = false;
        }
    }

    /// <summary>The planner: adds a file whose settling waits until <paramref name="after"/> actions are reported; while
    /// a runner settles them as they come (<see cref="BeginSettling"/>), waits as long as <see cref="Capacity"/> are held.</summary>
    /// <param name="destinationPath">Where the copy it is verified against is: its destination path, or (-CompareDest) the
    /// file of a basis directory that holds it.</param>
    /// <param name="basis">The basis directory (its number; the agent's tree number on a push) that holds that copy, or -1.</param>
    /// <exception cref="OperationCanceledException">The runner stopped (<see cref="Abandon"/>): planning ends.</exception>
    public void Add(FileEntry source, string destinationPath, string relative, int after, int basis = -1)
    {
        lock (_gate)
        {
            while (_settling && !_unbounded && !_abandoned && _files.Count >= Capacity)
            {
                Monitor.Wait(_gate);
            }

            if (_abandoned)
            {
                throw new OperationCanceledException("The run stopped while it was being planned.");
            }

            if (_ignored)
            {
                return;
            }

            _files.Enqueue(new SourceFile(source, destinationPath, relative, after, basis));
            _heldAtMost = Math.Max(_heldAtMost, _files.Count);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The planner has finished (or failed): no file comes after those added.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The runner: it settles the files as the reports reach them (<see cref="TryTake"/>), so the planner waits
    /// for room from now on.</summary>
    public void BeginSettling()
    {
        lock (_gate)
        {
            _settling = true;
        }
    }

    /// <summary>The runner settles no source file (a dry run): none is kept from now on.</summary>
    public void Ignore()
    {
        lock (_gate)
        {
            _ignored = true;
            _files.Clear();
        }
    }

    /// <summary>The runner: the first <paramref name="reported"/> actions are reported.</summary>
    public void Reported(int reported)
    {
        lock (_gate)
        {
            if (reported > _reported)
            {
                _reported = reported;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>The planner no longer waits for room: the runner needs the whole plan before it reports more (an
    /// extraneous deletion waits for the whole scan), or it no longer settles files as they come (it failed).</summary>
    public void Unbound()
    {
        lock (_gate)
        {
            _unbounded = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The runner has stopped: a planner waiting for room, or adding later, ends with an OperationCanceledException,
    /// and <see cref="TryTake"/> answers false.</summary>
    public void Abandon()
    {
        lock (_gate)
        {
            _abandoned = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The settling thread: the next file once every action planned up to it is reported, waiting for that;
    /// false once the planner has finished and every file is taken, or the run stopped.</summary>
    public bool TryTake(out SourceFile file)
    {
        lock (_gate)
        {
            while (!_abandoned)
            {
                if (_files.TryPeek(out file) && file.After <= _reported)
                {
                    _files.Dequeue();
                    Monitor.PulseAll(_gate);
                    return true;
                }

                if (_files.Count == 0 && _completed)
                {
                    break;
                }

                Monitor.Wait(_gate);
            }

            file = default;
            return false;
        }
    }

    /// <summary>A plan settled at the end of its run: every file, in plan order, each taken as it is handed out.</summary>
    public IEnumerable<SourceFile> TakeAll()
    {
        while (true)
        {
            SourceFile file;
            lock (_gate)
            {
                if (!_files.TryDequeue(out file))
                {
                    yield break;
                }
            }

            yield return file;
        }
    }

    /// <summary>A selected source file, where its copy is (its destination path, or a basis directory's file), its
    /// relative path, the actions planned up to it, and the basis directory holding its copy (-1: none).</summary>
    internal readonly record struct SourceFile(FileEntry Source, string DestinationPath, string Relative, int After, int Basis = -1);
}
