using System.Runtime.CompilerServices;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Client;

/// <summary>A listing streaming in from the agent, served per directory: the planner asks for one directory at a time
/// (as it would call <see cref="DirectoryLister.List"/>) and gets it as soon as the agent has sent it, while the rest
/// keeps arriving. Each directory is handed out once and then forgotten. A violation in the stream ends the session.
/// A bounded listing (<see cref="HoldsAtMost"/>, a streamed run's) stops reading while it holds that many entries that
/// nobody has asked for yet: the stream's credit is then not granted back, so the agent's walk waits (the protocol's
/// per-stream flow control) while its other requests go on, and the listing never grows far ahead of the planner.</summary>
internal sealed class RemoteListing
{
    /// <summary>How many listed entries a streamed run holds ahead of its planner: the agent lists in the planner's order
    /// (depth-first, names ascending), so a few directories' worth keeps the planner fed while a million-file listing
    /// costs a few megabytes instead of hundreds.</summary>
    public const int EntriesAhead = 16 * 1024;

    private readonly object _gate = new();
    private int _entriesHeld;
    private int _receiving;
    private bool _holding = true;
    private TaskCompletionSource? _room;
    private TaskCompletionSource _readerWaits = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, Listed> _ready = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource<List<FileEntry>>> _waiting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _filterFiles = new(StringComparer.Ordinal);

    /// <summary>With checksums: each regular file's, held as long as its entry is (the planner drops a directory's entries
    /// once it has planned it), so a -Checksum listing of a million files holds the checksums of the entries in use, not
    /// one per file of the tree.</summary>
    private readonly ConditionalWeakTable<FileEntry, StrongBox<UInt128>> _checksums = [];
    private readonly string _remoteRoot;
    private readonly string _prefix;
    private readonly bool _withChecksums;
    private readonly Metadata.XattrScope _xattrs;
    private readonly TaskCompletionSource<Metadata.ExtendedAttributeSet?> _startAttributes = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _recordSeen;
    private readonly CompactListingCodec? _codec;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failure;
    private bool _complete;

    /// <param name="withChecksums">The listing was asked for checksums (each regular file's entry carries one).</param>
    /// <param name="compact">The session agreed on <see cref="Handshake.CompactListings"/>: entries come encoded by <see cref="CompactListingCodec"/>.</param>
    /// <param name="xattrs">The listing carries the attributes of this scope (<see cref="ListingFeatures.ExtendedAttributes"/>).</param>
    public RemoteListing(string remoteRoot, bool withChecksums = false, bool compact = false, Metadata.XattrScope xattrs = Metadata.XattrScope.None)
    {
        _xattrs = xattrs;
        _codec = compact ? new CompactListingCodec() : null;
        _remoteRoot = remoteRoot;
        _prefix = remoteRoot.TrimEnd('/') + "/";
        _withChecksums = withChecksums;
    }

    /// <summary>The listing was asked for device numbers (<see cref="ListingFeatures.DeviceNumbers"/>): each device's entry
    /// carries one.</summary>
    public bool DeviceNumbers { get; init; }

    /// <summary>The most entries held that nobody has asked for before reading stops (see the type); null: the whole
    /// listing is read as it comes (a listing whose directories are asked for in no known order: a basis tree's).</summary>
    public int? HoldsAtMost { get; init; }

    /// <summary>The directories are asked for in the planner's order (<see cref="Planning.PlanOrder"/>), some of them
    /// skipped (a basis tree's: the planner asks only for those where it looks for a file): a directory that the planner has
    /// passed is dropped when it is asked for a later one, or when it arrives after that, instead of held until the end.</summary>
    public bool DropsPassed { get; init; }

    /// <summary>A directory handed out can be asked for again (a copy of it is kept): -PruneEmptyDirectories with -Delete,
    /// whose planner, having planned a directory that turns out to hold nothing to send, plans its copy's deletion and
    /// lists it once more, as a local run rereads it. Such a plan is built whole before anything runs, so the copies kept
    /// are within what that plan holds anyway.</summary>
    public bool KeepsTaken { get; set; }

    private readonly Dictionary<string, List<FileEntry>> _taken = new(StringComparer.Ordinal);

    /// <summary>The directory asked for last (<see cref="DropsPassed"/>), or null.</summary>
    private string? _lastAsked;

    /// <summary>Entries received and not yet taken, those of the directory still arriving included (tests watch the bound
    /// through it).</summary>
    internal int EntriesHeld
    {
        get
        {
            lock (_gate)
            {
                return _entriesHeld + _receiving;
            }
        }
    }

    /// <summary>Completes once the reader next waits for room (or has read the whole stream, or failed): a test looks at
    /// <see cref="EntriesHeld"/> then, when reading has stopped, without waiting for time to pass.</summary>
    internal Task WhenReaderWaits()
    {
        lock (_gate)
        {
            if (_readerWaits.Task.IsCompleted && _room is null && !_completion.Task.IsCompleted)
            {
                _readerWaits = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return _readerWaits.Task;
        }
    }

    /// <summary>Nobody will ask for another directory (the planner is done): what is held is dropped, and the rest of the
    /// stream is read to its end and dropped, so that the agent's walk finishes instead of waiting for credit.</summary>
    public void StopHolding()
    {
        TaskCompletionSource? room;
        lock (_gate)
        {
            _holding = false;
            _ready.Clear();
            _entriesHeld = 0;
            _receiving = 0;
            room = _room;
            _room = null;
        }

        room?.TrySetResult();
    }

    /// <summary>Whether the entries carry checksums.</summary>
    public bool HasChecksums => _withChecksums;

    /// <summary>A per-directory filter file the agent's walk read, by the full path the planner's filter asks for: its
    /// text, or null when there is none (or the agent did not read it: it is outside the tree, or its directory was
    /// not walked).</summary>
    public string? ReadFilterFile(string fullPath)
    {
        if (!fullPath.StartsWith(_prefix, StringComparison.Ordinal))
        {
            return null;
        }

        lock (_gate)
        {
            return _filterFiles.TryGetValue(fullPath[_prefix.Length..], out string? content) ? content : null;
        }
    }

    /// <summary>Whether <paramref name="fullPath"/> names something in the agent's tree.</summary>
    public bool Holds(string fullPath) => fullPath.StartsWith(_prefix, StringComparison.Ordinal);

    /// <summary>Checksums held (their entries still in use somewhere): tests watch that they go with their entries.</summary>
    internal int ChecksumsHeld
    {
        get
        {
            int held = 0;
            foreach (KeyValuePair<FileEntry, StrongBox<UInt128>> _ in _checksums)
            {
                held++;
            }

            return held;
        }
    }

    /// <summary>The checksum the agent sent with <paramref name="entry"/> (an entry this listing handed out), or null.</summary>
    public UInt128? Checksum(FileEntry entry) => _checksums.TryGetValue(entry, out StrongBox<UInt128>? checksum) ? checksum.Value : null;

    /// <summary>With extended attributes listed: those of the directory the listing started at (the first record), once
    /// it has arrived; null when the agent could not read them or the listing failed.</summary>
    public Metadata.ExtendedAttributeSet? StartAttributes => _xattrs == Metadata.XattrScope.None ? null : _startAttributes.Task.GetAwaiter().GetResult();

    /// <summary>The full path of the directory the listing started at.</summary>
    public bool IsStart(string fullPath) => fullPath.TrimEnd('/') == _remoteRoot.TrimEnd('/');

    /// <summary>Completes when the whole listing has arrived (or failed).</summary>
    public Task Completion => _completion.Task;

    /// <summary>The entries of one directory, relative to the root ("" is the root).</summary>
    /// <exception cref="SyncException">The agent could not read it (ScanError and kin), or the session failed.</exception>
    public List<FileEntry> List(string relativeDirectory) => TakeAsync(relativeDirectory, CancellationToken.None).GetAwaiter().GetResult();

    public Task<List<FileEntry>> TakeAsync(string relativeDirectory, CancellationToken cancellation)
    {
        lock (_gate)
        {
            if (DropsPassed)
            {
                DropPassed(relativeDirectory);
            }

            if (KeepsTaken && _taken.TryGetValue(relativeDirectory, out List<FileEntry>? again))
            {
                return Task.FromResult(new List<FileEntry>(again));
            }

            if (_ready.Remove(relativeDirectory, out Listed listed))
            {
                _entriesHeld -= listed.Entries?.Count ?? 0;
                WakeReader();
                if (listed.Error is null && KeepsTaken)
                {
                    _taken[relativeDirectory] = [.. listed.Entries!];
                }

                return listed.Error is null ? Task.FromResult(listed.Entries!) : Task.FromException<List<FileEntry>>(listed.Error);
            }

            if (_failure is not null)
            {
                return Task.FromException<List<FileEntry>>(_failure);
            }

            if (_complete)
            {
                return Task.FromException<List<FileEntry>>(NotListed(relativeDirectory));
            }

            if (!_waiting.TryGetValue(relativeDirectory, out TaskCompletionSource<List<FileEntry>>? waiter))
            {
                waiter = new TaskCompletionSource<List<FileEntry>>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiting.Add(relativeDirectory, waiter);
            }

            // The directory asked for is still to come: reading never waits while someone waits for what it brings.
            WakeReader();

            return waiter.Task.WaitAsync(cancellation);
        }
    }

    /// <summary>Reads the stream to its end, checking every record.</summary>
    internal async Task ReceiveAsync(MuxStream stream, ListingValidator validator, Action<SyncException> abortSession)
    {
        try
        {
            List<FileEntry>? current = null;
            while (true)
            {
                using Frame frame = await stream.ReceiveAsync(CancellationToken.None).ConfigureAwait(false);
                if (frame.Kind == FrameKind.End)
                {
                    if (frame.Length != 0)
                    {
                        throw ProtocolFault.Violation("a listing whose end carries data");
                    }

                    validator.Complete();
                    break;
                }

                if (frame.Kind == FrameKind.Error)
                {
                    throw WireError.Read(frame.Payload, "agent");
                }

                if (frame.Kind != FrameKind.Data)
                {
                    throw ProtocolFault.Violation($"a {frame.Kind} frame in a listing");
                }

                current = Parse(frame.Payload, validator, current);
                await RoomAsync(stream, current?.Count ?? 0).ConfigureAwait(false);
                stream.Consumed(frame.Length);
            }

            lock (_gate)
            {
                _complete = true;
                foreach ((string path, TaskCompletionSource<List<FileEntry>> waiter) in _waiting)
                {
                    waiter.TrySetException(NotListed(path));
                }

                _waiting.Clear();
            }

            _startAttributes.TrySetResult(null);
            _completion.TrySetResult();
            lock (_gate)
            {
                _readerWaits.TrySetResult();
            }
        }
        catch (SyncException ex)
        {
            if (ex.ErrorId is ErrorIds.ProtocolViolation or ErrorIds.UnsafePath or ErrorIds.FrameTooLarge)
            {
                abortSession(ex);
            }

            Fail(ex);
        }
        finally
        {
            _startAttributes.TrySetResult(null);
            lock (_gate)
            {
                _readerWaits.TrySetResult();
            }
        }
    }

    /// <summary>Checks and files the records of one data frame; returns the directory still being received (internal: the
    /// fuzzing harness feeds it frames).</summary>
    internal List<FileEntry>? Parse(ReadOnlySpan<byte> payload, ListingValidator validator, List<FileEntry>? current)
    {
        var reader = new WireReader(payload);
        while (!reader.AtEnd)
        {
            byte tag = reader.Byte();
            bool first = !_recordSeen;
            _recordSeen = true;
            if (first && _xattrs != Metadata.XattrScope.None && tag != ListingRecord.StartAttributes)
            {
                throw ProtocolFault.Violation("a listing with extended attributes that does not start with its directory's");
            }

            switch (tag)
            {
                case ListingRecord.StartAttributes when first && _xattrs != Metadata.XattrScope.None:
                    _startAttributes.TrySetResult(reader.UInt(1) == 1 ? Metadata.ExtendedAttributeSet.Read(ref reader, _xattrs) : null);
                    break;

                case ListingRecord.DirectoryStart:
                    validator.StartDirectory(reader.String(ProtocolLimits.MaxPathBytes));
                    current = [];
                    break;

                case ListingRecord.Entries:
                    int count = reader.Count(ProtocolLimits.MaxFramePayload,
                        _codec is null ? ListingEntry.MinEncodedLength : CompactListingCodec.MinEncodedLength);
                    string directory = validator.Current ?? throw ProtocolFault.Violation("entries outside any directory");
                    _codec?.Reset();
                    for (int i = 0; i < count; i++)
                    {
                        ListingEntry entry = _codec is null ? ListingEntry.Read(ref reader, checksums: _withChecksums, xattrs: _xattrs, devices: DeviceNumbers)
                            : _codec.Read(ref reader, _withChecksums, _xattrs, DeviceNumbers);
                        validator.Entry(entry);
                        string fullPath = FullPath(PeerNames.Join(directory, entry.Name));
                        FileEntry listed = entry.ToFileEntry(fullPath);
                        current!.Add(listed);
                        if (entry.Checksum is { } checksum)
                        {
                            _checksums.Add(listed, new StrongBox<UInt128>(checksum));
                        }
                    }

                    break;

                case ListingRecord.FilterFile:
                    string file = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false);
                    string? content = reader.UInt(1) == 1 ? reader.String(ListingOptions.MaxFilterBytes) : null;
                    lock (_gate)
                    {
                        _filterFiles[file] = content;
                    }

                    break;

                case ListingRecord.DirectoryEnd:
                    Publish(validator.EndDirectory(), new Listed(current, null));
                    current = null;
                    break;

                case ListingRecord.DirectoryError:
                    string failed = reader.String(ProtocolLimits.MaxPathBytes);
                    validator.DirectoryFailed(failed);
                    Publish(failed, new Listed(null, WireError.Read(ref reader, "agent")));
                    break;

                default:
                    throw ProtocolFault.Violation($"an unknown listing record 0x{tag:x2}");
            }
        }

        return current;
    }

    /// <summary>Waits, before the frame just read is granted back, while a bounded listing holds more than its bound of
    /// entries nobody has asked for (<paramref name="receiving"/> of them in the directory still arriving) and nobody waits
    /// for one still to come. Never waits otherwise: a planner that waits for a directory gets the stream read on until it
    /// arrives, whatever is held meanwhile, so the bound cannot deadlock. The stream's failure (the session closed) ends
    /// the wait too.</summary>
    private async Task RoomAsync(MuxStream stream, int receiving)
    {
        while (true)
        {
            Task room;
            lock (_gate)
            {
                _receiving = receiving;
                if (HoldsAtMost is not { } bound || !_holding || _waiting.Count > 0 || _entriesHeld + receiving <= bound)
                {
                    return;
                }

                _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                room = _room.Task;
                _readerWaits.TrySetResult();
            }

            if (await Task.WhenAny(room, stream.Failed).ConfigureAwait(false) != room)
            {
                return;
            }
        }
    }

    /// <summary>Under the gate: the planner is at <paramref name="directory"/>; what it has passed is let go.</summary>
    private void DropPassed(string directory)
    {
        _lastAsked = directory;
        List<string>? passed = null;
        foreach (string path in _ready.Keys)
        {
            if (Planning.PlanOrder.Compare(path, directory) < 0)
            {
                (passed ??= []).Add(path);
            }
        }

        if (passed is null)
        {
            return;
        }

        foreach (string path in passed)
        {
            _ready.Remove(path, out Listed dropped);
            _entriesHeld -= dropped.Entries?.Count ?? 0;
        }

        WakeReader();
    }

    /// <summary>Under the gate: lets a waiting reader look again (an entry was taken, or a directory is waited for).</summary>
    private void WakeReader()
    {
        if (_room is { } room)
        {
            _room = null;
            room.TrySetResult();
        }
    }

    private string FullPath(string relative) => relative.Length == 0 ? _remoteRoot : _remoteRoot.TrimEnd('/') + "/" + relative;

    private void Publish(string path, Listed listed)
    {
        TaskCompletionSource<List<FileEntry>>? waiter;
        lock (_gate)
        {
            if (!_waiting.Remove(path, out waiter))
            {
                if (_holding && !(DropsPassed && _lastAsked is { } last && Planning.PlanOrder.Compare(path, last) < 0))
                {
                    _entriesHeld += listed.Entries?.Count ?? 0;
                    _ready[path] = listed;
                }

                return;
            }
        }

        if (listed.Error is not null)
        {
            waiter.TrySetException(listed.Error);
        }
        else
        {
            if (KeepsTaken)
            {
                lock (_gate)
                {
                    _taken[path] = [.. listed.Entries!];
                }
            }

            waiter.TrySetResult(listed.Entries!);
        }
    }

    private void Fail(Exception error)
    {
        lock (_gate)
        {
            _failure = error;
            foreach (TaskCompletionSource<List<FileEntry>> waiter in _waiting.Values)
            {
                waiter.TrySetException(error);
            }

            _waiting.Clear();
        }

        _completion.TrySetException(error);
    }

    private static SyncException NotListed(string path) =>
        new(ErrorIds.ScanError, SyncErrorKind.NotFound, $"The agent's listing does not include '{(path.Length == 0 ? "." : path)}'.", path);

    private readonly record struct Listed(List<FileEntry>? Entries, SyncException? Error);
}
