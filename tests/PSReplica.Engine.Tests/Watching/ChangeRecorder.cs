using System.Threading.Channels;
using PSReplica.Engine.Watching;

namespace PSReplica.Engine.Tests.Watching;

/// <summary>Reads a watcher's changes until the one a test waits for, keeping every change seen. The timeout is a failure
/// bound only: a test never waits for time to pass, only for a change (a marker file written after an action is seen
/// after every change the action caused, since a watcher reports in the order seen).</summary>
internal sealed class ChangeRecorder(ITreeWatcher watcher, string root)
{
    private static readonly TimeSpan s_failureBound = TimeSpan.FromSeconds(30);
    private int _markers;

    public List<WatchChange> Seen { get; } = [];

    public async Task<WatchChange> WaitFor(Func<WatchChange, bool> match, string what)
    {
        using var timeout = new CancellationTokenSource(s_failureBound);
        while (true)
        {
            WatchChange change;
            try
            {
                change = await watcher.Changes.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"{what} was not seen within {s_failureBound.TotalSeconds} s; seen: {Describe()}");
            }
            catch (ChannelClosedException e)
            {
                throw new Xunit.Sdk.XunitException($"{what} was not seen: the watch ended ({e.InnerException?.Message ?? "disposed"}); seen: {Describe()}");
            }

            Seen.Add(change);
            if (match(change))
            {
                return change;
            }
        }
    }

    public Task<WatchChange> Item(string relative) =>
        WaitFor(c => c.Kind == WatchChangeKind.Item && c.RelativePath == relative, $"Item '{relative}'");

    public Task<WatchChange> Subtree(string relative) =>
        WaitFor(c => c.Kind == WatchChangeKind.Subtree && c.RelativePath == relative, $"Subtree '{relative}'");

    public Task<WatchChange> Lost(string relative) =>
        WaitFor(c => c.Kind == WatchChangeKind.Lost && c.RelativePath == relative, $"Lost '{relative}'");

    /// <summary>Writes a new marker file in <paramref name="directory"/> (relative, "" for the root) and waits for its
    /// change: the watch of that directory is in place, and every change before the marker has been read. Returns the
    /// index in <see cref="Seen"/> after the marker.</summary>
    public async Task<int> Settle(string directory = "")
    {
        string name = $".marker-{++_markers}";
        string relative = directory.Length == 0 ? name : directory + "/" + name;
        File.WriteAllText(Path.Join(root, relative), "m");
        await Item(relative);
        return Seen.Count;
    }

    /// <summary>The changes seen from index <paramref name="from"/> whose path is <paramref name="prefix"/> or below it.</summary>
    public List<WatchChange> Under(string prefix, int from = 0) =>
        Seen.Skip(from).Where(c => c.RelativePath == prefix || c.RelativePath.StartsWith(prefix + "/", StringComparison.Ordinal)).ToList();

    public string Describe() => string.Join(", ", Seen.Select(c => $"{c.Kind} '{c.RelativePath}'"));
}
