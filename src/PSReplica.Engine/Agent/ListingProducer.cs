using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Agent;

/// <summary>The agent's side of a listing: directories depth-first, each one's entries in ascending ordinal order,
/// several records packed per data frame. A directory that cannot be read is reported in the stream and the walk goes on.
/// With <see cref="ListingOptions"/> the walk also applies the controller's filter as its planner will (<see cref="ListingFilter"/>:
/// what it would skip is neither listed nor sent, and the per-directory filter files read go along), adds checksums,
/// follows links, and stays on the root's file system.</summary>
internal static class ListingProducer
{
    public static async Task WriteAsync(SafeTree tree, MuxStream stream, string start, bool recursive, CancellationToken cancellation) =>
        await WriteAsync(tree, stream, start, recursive, null, cancellation).ConfigureAwait(false);

    /// <param name="compact">The session agreed on <see cref="Handshake.CompactListings"/>.</param>
    public static async Task WriteAsync(SafeTree tree, MuxStream stream, string start, bool recursive, ListingFilter? filter, CancellationToken cancellation,
        bool compact = false)
    {
        CompactListingCodec? codec = compact ? new CompactListingCodec() : null;
        using var records = new WireWriter(ProtocolLimits.DataChunk);
        var stack = new Stack<Frame>();
        var active = new HashSet<(ulong Device, ulong Inode)>();
        if (filter?.ListsExtendedAttributes == true)
        {
            // The start directory's own entry is not listed (a root's came in Opened): its attributes go first.
            records.Byte(ListingRecord.StartAttributes);
            if (filter.ExtendedAttributes(start) is { } attributes)
            {
                attributes.Write(records.Byte(1));
            }
            else
            {
                records.Byte(0);
            }
        }

        Frame? first = await ListOneAsync(tree, stream, records, start, filter, codec, cancellation).ConfigureAwait(false);
        if (first is not null)
        {
            stack.Push(first);
        }

        while (stack.Count > 0)
        {
            cancellation.ThrowIfCancellationRequested();
            Frame top = stack.Peek();
            if (recursive && top.Next < top.Children.Count)
            {
                (string child, ListingEntry entry) = top.Children[top.Next++];
                if (!active.Add((entry.Stat.Device, entry.Stat.Inode)))
                {
                    // Only when links are followed: a link back to a directory being walked. The planner will not enter it either.
                    Error(records, child, new SyncException(ErrorIds.ScanError, SyncErrorKind.ReadError,
                        $"Skipping '{child}': it leads back to a directory that is being copied (symbolic link loop).", child));
                    await FlushIfFullAsync(stream, records, cancellation).ConfigureAwait(false);
                    continue;
                }

                Frame? frame = await ListOneAsync(tree, stream, records, child, filter, codec, cancellation).ConfigureAwait(false);
                if (frame is null)
                {
                    active.Remove((entry.Stat.Device, entry.Stat.Inode));
                }
                else
                {
                    frame.Identity = (entry.Stat.Device, entry.Stat.Inode);
                    stack.Push(frame);
                }

                continue;
            }

            stack.Pop();
            active.Remove(top.Identity);
            filter?.Leave();
        }

        if (records.Length > 0)
        {
            await stream.SendDataAsync(records.WrittenMemory, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>Lists one directory into the stream; returns its walk frame (the filter entered), or null when it
    /// could not be read (reported in the stream).</summary>
    private static async Task<Frame?> ListOneAsync(SafeTree tree, MuxStream stream, WireWriter records, string directory, ListingFilter? filter,
        CompactListingCodec? codec, CancellationToken cancellation)
    {
        List<ListingEntry> entries;
        try
        {
            entries = tree.List(directory);
            if (filter is not null)
            {
                // The per-directory filter files go first: the planner reads them once it has the directory's entries.
                foreach ((string path, string? content) in filter.Enter(directory))
                {
                    records.Byte(ListingRecord.FilterFile).String(path);
                    if (content is null)
                    {
                        records.Byte(0);
                    }
                    else
                    {
                        records.Byte(1).String(content);
                    }

                    await FlushIfFullAsync(stream, records, cancellation).ConfigureAwait(false);
                }

                entries = filter.Select(directory, entries);
            }
        }
        catch (SyncException ex)
        {
            // Reported in the stream (the directory may have become a link since its parent was listed); the walk goes on.
            Error(records, directory, ex);
            await FlushIfFullAsync(stream, records, cancellation).ConfigureAwait(false);
            return null;
        }

        records.Byte(ListingRecord.DirectoryStart).String(directory);
        int i = 0;
        while (i < entries.Count)
        {
            // A batch: a count, then as many entries as fit in one chunk.
            int batch = 0;
            using var body = new WireWriter(ProtocolLimits.ListingChunk);
            codec?.Reset();
            while (i < entries.Count && body.Length < ProtocolLimits.ListingChunk)
            {
                if (codec is null)
                {
                    entries[i].Write(body);
                }
                else
                {
                    codec.Write(body, entries[i]);
                }

                i++;
                batch++;
            }

            records.Byte(ListingRecord.Entries).UInt((uint)batch).Bytes(body.Written);
            await FlushIfFullAsync(stream, records, cancellation).ConfigureAwait(false);
        }

        records.Byte(ListingRecord.DirectoryEnd);
        await FlushIfFullAsync(stream, records, cancellation).ConfigureAwait(false);
        var frame = new Frame();
        foreach (ListingEntry entry in entries)
        {
            if (entry.Kind != EntryKind.Directory || filter?.Enters(entry) == false)
            {
                continue;
            }

            string child = PeerNames.Join(directory, entry.Name);
            if (filter?.Walks(child) == false)
            {
                Error(records, child, new SyncException(ErrorIds.ScanError, SyncErrorKind.ReadError,
                    $"'{child}' was not listed: the filter excludes it and protects it from deletion, so the run does not look inside.", child));
                await FlushIfFullAsync(stream, records, cancellation).ConfigureAwait(false);
                continue;
            }

            frame.Children.Add((child, entry));
        }

        return frame;
    }

    private static void Error(WireWriter records, string directory, SyncException error)
    {
        records.Byte(ListingRecord.DirectoryError).String(directory);
        WireError.Write(records, error);
    }

    private static async Task FlushIfFullAsync(MuxStream stream, WireWriter records, CancellationToken cancellation)
    {
        if (records.Length >= ProtocolLimits.ListingChunk)
        {
            await stream.SendDataAsync(records.WrittenMemory, cancellation).ConfigureAwait(false);
            records.Reset();
        }
    }

    /// <summary>A directory being walked: its subdirectories, and how many have been walked.</summary>
    private sealed class Frame
    {
        public List<(string Path, ListingEntry Entry)> Children { get; } = [];

        public int Next { get; set; }

        public (ulong, ulong) Identity { get; set; }
    }
}
