using System.IO.Hashing;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Client;

/// <summary>The controller's side of one WriteBatch request: small files are added back to back on one stream (no
/// request, no answer to wait for each), and the reader settles each file as the agent's result for it comes back.</summary>
internal sealed class RemoteWriteBatch : RemoteBatch<int>
{
    private readonly Action<int, long, SyncException?> _settle;

    /// <param name="settle">Called once per file added, with its token and either the bytes written or the error
    /// (<see cref="Stopped"/> when the run was cancelled).</param>
    /// <param name="close">Finishes the stream once the answer has been read (or abandons it).</param>
    public RemoteWriteBatch(MuxStream stream, Action<int, long, SyncException?> settle, Action<MuxStream> close, CancellationToken cancellation)
        : base(stream, cancellation)
    {
        _settle = settle;
        StartReading(close, cancellation);
    }

    /// <summary>The failure files are settled with when the run was cancelled: not an error to report.</summary>
    public static SyncException Stopped { get; } = ProtocolFault.ConnectionLost("the run was stopped");

    protected override string Name => "WriteBatch";

    /// <summary>Sends one file (waiting only for flow-control credit). A batch already failed settles it with that failure.</summary>
    public void Add(int token, string path, ReadOnlySpan<byte> data, AttributeSet attributes)
    {
        if (!Enlist(token, out SyncException? failure))
        {
            _settle(token, 0, failure ?? Stopped);
            return;
        }

        try
        {
            Span<byte> hash = stackalloc byte[16];
            XxHash128.Hash(data, hash);
            BatchCodec.WriteRecord(Output, Message, path, data, hash, attributes);
        }
        catch (Exception ex) when (ex is SyncException or OperationCanceledException)
        {
            Fail(ex as SyncException);
        }
    }

    protected override bool ReadAnswer(Stream input, byte[] buffer)
    {
        if (!BatchCodec.ReadResult(input, buffer, out long written, out SyncException? error))
        {
            return false;
        }

        _settle(Next(), written, error);
        return true;
    }

    protected override void Abandon(int pending, SyncException? error) => _settle(pending, 0, error ?? Stopped);
}
