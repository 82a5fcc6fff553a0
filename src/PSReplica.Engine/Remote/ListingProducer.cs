using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Remote;

/// <summary>The agent's side of a listing: directories depth-first, each one's entries in ascending ordinal order,
/// several records packed per data frame. A directory that cannot be read is reported in the stream and the walk goes on.</summary>
internal static class ListingProducer
{
    public static async Task WriteAsync(SafeTree tree, MuxStream stream, string start, bool recursive, CancellationToken cancellation)
    {
        using var records = new WireWriter(ProtocolLimits.DataChunk);
        var stack = new Stack<string>();
        stack.Push(start);
        while (stack.Count > 0)
        {
            cancellation.ThrowIfCancellationRequested();
            string directory = stack.Pop();
            List<ListingEntry> entries;
            try
            {
                entries = tree.List(directory);
            }
            catch (SyncException ex)
            {
                // Reported in the stream (the directory may have become a link since its parent was listed); the walk goes on.
                records.Byte(ListingRecord.DirectoryError).String(directory);
                WireError.Write(records, ex);
                await FlushIfFullAsync(stream, records, cancellation).ConfigureAwait(false);
                continue;
            }

            records.Byte(ListingRecord.DirectoryStart).String(directory);
            int i = 0;
            while (i < entries.Count)
            {
                // A batch: a count, then as many entries as fit in one chunk.
                int batch = 0;
                using var body = new WireWriter(ProtocolLimits.ListingChunk);
                while (i < entries.Count && body.Length < ProtocolLimits.ListingChunk)
                {
                    entries[i].Write(body);
                    i++;
                    batch++;
                }

                records.Byte(ListingRecord.Entries).UInt((uint)batch).Bytes(body.Written);
                await FlushIfFullAsync(stream, records, cancellation).ConfigureAwait(false);
            }

            records.Byte(ListingRecord.DirectoryEnd);
            await FlushIfFullAsync(stream, records, cancellation).ConfigureAwait(false);
            if (recursive)
            {
                for (int j = entries.Count - 1; j >= 0; j--)
                {
                    if (entries[j].Kind == EntryKind.Directory)
                    {
                        stack.Push(PeerNames.Join(directory, entries[j].Name));
                    }
                }
            }
        }

        if (records.Length > 0)
        {
            await stream.SendDataAsync(records.WrittenMemory, cancellation).ConfigureAwait(false);
        }
    }

    private static async Task FlushIfFullAsync(MuxStream stream, WireWriter records, CancellationToken cancellation)
    {
        if (records.Length >= ProtocolLimits.ListingChunk)
        {
            await stream.SendDataAsync(records.WrittenMemory, cancellation).ConfigureAwait(false);
            records.Reset();
        }
    }
}
