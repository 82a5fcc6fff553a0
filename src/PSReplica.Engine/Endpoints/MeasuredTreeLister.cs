using System.Diagnostics;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Endpoints;

/// <summary>Counts and times what another lister lists, for -Verbose's scan line. The planner wraps its listers in it
/// only when verbose output is wanted, so an ordinary run neither counts nor reads the clock. Lists may run on two
/// threads at once (the destination beside the source), hence the interlocked sums.</summary>
internal sealed class MeasuredTreeLister(ITreeLister inner) : ITreeLister
{
    private long _directories;
    private long _entries;
    private long _ticks;

    public long Directories => Interlocked.Read(ref _directories);

    public long Entries => Interlocked.Read(ref _entries);

    /// <summary>The time spent in <see cref="List"/>: reading the disk, or waiting for an agent's or a server's listing.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticks));

    public Func<string, string?>? FilterFileReader => inner.FilterFileReader;

    public bool ResolvesLinks => inner.ResolvesLinks;

    public bool ListsAhead => inner.ListsAhead;

    public UInt128? Checksum(FileEntry entry) => inner.Checksum(entry);

    public Metadata.ExtendedAttributeSet? ExtendedAttributes(FileEntry entry, Metadata.XattrScope scope) => inner.ExtendedAttributes(entry, scope);

    public FileSystemTraits Traits(string fullPath, ulong? device, bool measure) => inner.Traits(fullPath, device, measure);

    public List<FileEntry> List(string fullPath, string relative) => Measure(() => inner.List(fullPath, relative));

    public List<FileEntry> ListNames(string fullPath, string relative, IReadOnlySet<string> names, FileEntry? expected) =>
        Measure(() => inner.ListNames(fullPath, relative, names, expected));

    public List<FileEntry> ListVerified(FileEntry directory, string relative) => Measure(() => inner.ListVerified(directory, relative));

    private List<FileEntry> Measure(Func<List<FileEntry>> list)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            List<FileEntry> entries = list();
            Interlocked.Increment(ref _directories);
            Interlocked.Add(ref _entries, entries.Count);
            return entries;
        }
        finally
        {
            Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - started);
        }
    }
}
