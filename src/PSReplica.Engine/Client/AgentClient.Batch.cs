using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Client;

internal sealed partial class AgentClient
{
    /// <summary>Whether the agent takes many small files on one stream (<see cref="Handshake.WriteBatches"/>).</summary>
    public bool BatchesWrites => Contains(Capabilities, Handshake.WriteBatches);

    /// <summary>Whether the agent reads many small files for one request (<see cref="Handshake.ReadBatches"/>).</summary>
    public bool BatchesReads => Contains(Capabilities, Handshake.ReadBatches);

    /// <summary>Sender: opens a ReadBatch request; the files named in it are answered in order.</summary>
    public async Task<RemoteReadBatch> StartReadBatchAsync(CancellationToken cancellation)
    {
        MuxStream stream = await OpenAsync(new AgentRequest(RequestType.ReadBatch, string.Empty), cancellation).ConfigureAwait(false);
        return new RemoteReadBatch(stream, Close, cancellation);
    }

    /// <summary>Whether the session compresses data frames (-Compress, and the agent can).</summary>
    public bool Compresses => _mux.CompressionLevel > 0;

    /// <summary>Receiver: opens a WriteBatch request. Files added to it are written in the order added, after every
    /// ordered change sent before it (so their directories exist); <paramref name="settle"/> is called once per file.</summary>
    public async Task<RemoteWriteBatch> StartWriteBatchAsync(Action<int, long, SyncException?> settle, bool compress, CancellationToken cancellation)
    {
        MuxStream stream = await OpenAsync(new AgentRequest(RequestType.WriteBatch, string.Empty), cancellation).ConfigureAwait(false);
        stream.Compress = compress;
        return new RemoteWriteBatch(stream, settle, Close, cancellation);
    }
}
