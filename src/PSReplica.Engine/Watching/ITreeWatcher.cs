using System.Threading.Channels;

namespace PSReplica.Engine.Watching;

/// <summary>What a change notification asks of the next plan (-Watch, issue 17).</summary>
internal enum WatchChangeKind
{
    /// <summary>The item at the path was created, written, closed after writing, changed in its attributes, deleted, or
    /// renamed from or to that name: its parent directory's entry of that name is planned again (and, if it is a
    /// directory now, what is in it only as far as other changes say).</summary>
    Item,

    /// <summary>Everything under the directory at the path is planned again (a directory made or moved in, whose contents
    /// no watch saw arrive; a watch that could not be added). The path "" is the whole tree.</summary>
    Subtree,

    /// <summary>Notifications were lost (the kernel's queue overflowed, or a watch could not be added because the user's
    /// limit is reached): the subtree at the path, "" for the whole tree, is planned again, and the run warns with
    /// <see cref="WatchChange.Reason"/>.</summary>
    Lost,
}

/// <summary>One change a <see cref="ITreeWatcher"/> saw: a path relative to the watched root, '/'-separated, "" for the
/// root itself.</summary>
internal readonly record struct WatchChange(WatchChangeKind Kind, string RelativePath, string? Reason = null)
{
    /// <summary>For the <see cref="WatchChangeKind.Subtree"/> of a directory renamed within the tree, its old path, when
    /// the watcher paired the two names (a hint: the destination may repeat the rename instead of copying the subtree
    /// again; the old name is reported as an <see cref="WatchChangeKind.Item"/> as well, so nothing depends on it).</summary>
    public string? From { get; init; }

    /// <summary>True when the event ends a change of an <see cref="WatchChangeKind.Item"/>: a file closed after writing, an
    /// item deleted or renamed, a directory made or changed. A batch need not wait the settle time for such a change (see
    /// <see cref="ChangeBatches"/>); any other change of a file (made, written, its attributes changed, not yet closed)
    /// may be followed by more from a writer that is not done.</summary>
    public bool Final { get; init; }

    /// <summary>When the change was seen (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>, taken as it is made):
    /// <see cref="ChangeBatches"/> times its pauses from the notifications themselves, not from when it got round to
    /// reading them (after a batch that ran meanwhile).</summary>
    public long Seen { get; init; } = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Equal when they say the same of the same path; when each was seen is no part of what it says.</summary>
    public bool Equals(WatchChange other) => Kind == other.Kind && RelativePath == other.RelativePath && Reason == other.Reason
        && From == other.From && Final == other.Final;

    public override int GetHashCode() => HashCode.Combine(Kind, RelativePath, Reason, From, Final);
}

/// <summary>Watches a source tree for changes and writes each to <see cref="Changes"/> as it is seen (no coalescing: the
/// watch loop settles and merges them). One implementation per file-system backend: inotify on Linux (a watch per
/// directory, added as directories appear and removed as they vanish, links never followed), FileSystemWatcher on the
/// portable backend. Started before the first full sync, so that nothing changed while it runs is missed.</summary>
internal interface ITreeWatcher : IDisposable
{
    /// <summary>The changes, in the order seen. Completed when the watcher is disposed, or with an exception when it
    /// cannot go on (the root itself vanished, or became something else).</summary>
    ChannelReader<WatchChange> Changes { get; }
}
