using PSReplica.Engine.Delta;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;

namespace PSReplica.Engine.Client;

/// <summary>The requests of the "safe-updates" capability: -DelayUpdates and -Inplace on a push (see
/// <see cref="TreeReceiver"/>'s delayed and in-place parts).</summary>
internal sealed partial class AgentClient
{
    /// <summary>Whether the agent can delay updates and write in place (<see cref="Handshake.SafeUpdates"/>).</summary>
    public bool MakesSafeUpdates => Contains(Capabilities, Handshake.SafeUpdates);

    /// <summary>Whether the agent writes files with holes on request (<see cref="Handshake.Sparse"/>: -Sparse on a push).</summary>
    public bool WritesSparse => Contains(Capabilities, Handshake.Sparse);

    /// <summary>Receiver (capability "sparse"): from now on the agent writes blocks of zeros as holes.</summary>
    public Task SparseFilesAsync(CancellationToken cancellation) =>
        SimpleAsync(new AgentRequest(RequestType.SparseFiles, string.Empty), cancellation);

    /// <summary>Receiver: from now on the files of this session wait for <see cref="CommitUpdatesAsync"/>.</summary>
    public Task DelayUpdatesAsync(CancellationToken cancellation) =>
        SimpleAsync(new AgentRequest(RequestType.DelayUpdates, string.Empty), cancellation);

    /// <summary>Receiver: puts every waiting file in place; returns how many could not be, and the first of them with
    /// the agent's reason.</summary>
    public async Task<(long Failed, List<(string Path, string Message)> Listed)> CommitUpdatesAsync(CancellationToken cancellation)
    {
        MuxStream stream = await OpenAsync(new AgentRequest(RequestType.CommitUpdates, string.Empty), cancellation).ConfigureAwait(false);
        byte[] answer;
        try
        {
            answer = await ResultAsync(stream, cancellation).ConfigureAwait(false);
        }
        finally
        {
            Close(stream);
        }

        var reader = new WireReader(answer);
        long failed = reader.Int64();
        int count = reader.Count(TreeReceiver.MaxReportedFailures, 2);
        if (count > failed)
        {
            throw ProtocolFault.Violation($"a CommitUpdates answer that lists {count} of {failed} failures");
        }

        var listed = new List<(string, string)>(count);
        for (int i = 0; i < count; i++)
        {
            string path = PeerNames.CheckPath(reader.String(ProtocolLimits.MaxPathBytes), allowRoot: false);
            listed.Add((path, ProtocolFault.Printable(reader.String(ProtocolLimits.MaxMessageBytes))));
        }

        reader.ExpectEnd();
        return (failed, listed);
    }

    /// <summary>Receiver: rewrites the file at <paramref name="path"/> in place from the delta of <paramref name="source"/>
    /// against <paramref name="signature"/> (of that file). Copies of blocks the writer will have overwritten are sent as
    /// data read from <paramref name="literalSource"/> (the same source file).</summary>
    public Task<TransferResult> ApplyInplaceDeltaAsync(string path, Signature signature, Stream source, SafeFileHandle literalSource, long length,
        AttributeSet attributes, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(source);
        var request = new AgentRequest(RequestType.ApplyInplaceDelta, path)
        {
            BlockLength = signature.BlockLength,
            Length = length,
            Attributes = attributes,
        };
        return ApplyDeltaAsync(request, signature, source, cancellation, wire => new InplaceDeltaGuard(wire, literalSource, signature));
    }

    /// <summary>Receiver: writes <paramref name="length"/> bytes from <paramref name="source"/> over the file at
    /// <paramref name="path"/> from its start (a new file with <paramref name="create"/>), cut to that length.</summary>
    public async Task<TransferResult> WriteInplaceAsync(string path, bool create, Stream source, long length, AttributeSet attributes,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(source);
        var request = new AgentRequest(RequestType.WriteInplace, path) { Flag = create, Length = length, Attributes = attributes };
        MuxStream stream = await OpenAsync(request, cancellation).ConfigureAwait(false);
        stream.Compress = FrameCompressor.Worthwhile(path);
        try
        {
            Task body = SendFileAsync(stream, source, length, cancellation);
            byte[] result = await ResultAfterBodyAsync(stream, body, cancellation).ConfigureAwait(false);
            return ReadTransfer(result);
        }
        finally
        {
            Close(stream);
        }
    }
}
