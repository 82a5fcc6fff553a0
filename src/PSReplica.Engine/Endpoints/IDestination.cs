using PSReplica.Engine.Planning;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>The destination of a run as the plan runner sees it: it carries out actions, each wiring its own way (in
/// this process through the receiver, through an agent, over SFTP), while the runner alone decides their order, their
/// workers, what is reported and counted, -MaxDelete and declined subtrees. Calls may come from several workers at once.</summary>
internal interface IDestination : IDisposable
{
    /// <summary>How many copy workers suit it: a local disk is kept busy by a few, a wire by more requests in flight.</summary>
    int Workers { get; }

    /// <summary>Carries out one action; throws <see cref="SyncException"/> for that item's failure.</summary>
    void Apply(PlannedAction action);

    /// <summary>Offers an action to be carried out without the runner waiting for it (small changes sent to an agent that
    /// keeps their order, small new files in a write batch). When taken, <paramref name="settle"/> is called once, from any
    /// thread, with null or the item's failure; when refused (false), the runner calls <see cref="Apply"/>.</summary>
    bool TryStart(PlannedAction action, Action<SyncException?> settle);

    /// <summary>Sends what was started and is still gathered (a write batch): the runner is about to apply a change that
    /// must come after it.</summary>
    void Flush();

    /// <summary>Waits until everything started has settled.</summary>
    void Drain();

    /// <summary>Whether a failure at <paramref name="relative"/> follows from a directory above it that could not be made
    /// (counted as skipped, as a local run never tries it).</summary>
    bool UnderFailedDirectory(string relative);

    /// <summary>Gives a directory its attributes once everything inside it is written (deepest first).</summary>
    void FinishDirectory(string relative, FileEntry source, bool created);

    /// <summary>Sets a destination directory's permission bits and nothing else ("" is the root): a directory its owner
    /// cannot write is opened for the owner before the run changes names in it (<paramref name="wait"/>: done when this
    /// returns), and given its mode back at the end (after what is inside, as <see cref="FinishDirectory"/>).</summary>
    void SetDirectoryMode(string relative, int mode, bool wait);

    /// <summary>-DelayUpdates: puts every finished file in place in one burst, once all transfers are done; returns what
    /// could not be.</summary>
    List<SyncException> CommitDelayed();

    /// <summary>The run ends before its burst: what waits under a temp name goes.</summary>
    void AbandonDelayed();
}
