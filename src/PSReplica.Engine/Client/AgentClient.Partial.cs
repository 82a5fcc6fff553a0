using PSReplica.Engine.Delta;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;

namespace PSReplica.Engine.Client;

/// <summary>The requests of the "partial" capability (see <see cref="TreeReceiver"/>'s partial part).</summary>
internal sealed partial class AgentClient
{
    /// <summary>Whether the agent keeps partial files on a push (<see cref="Handshake.PartialFiles"/>).</summary>
    public bool KeepsPartials => Contains(Capabilities, Handshake.PartialFiles);

    /// <summary>Receiver: the signature of <paramref name="partial"/> when the agent has it, else of the target at
    /// <paramref name="path"/> when there is one, else an empty one.</summary>
    public Task<Signature> PartialSignatureAsync(string path, string partial, int? blockLength, CancellationToken cancellation) =>
        SignatureAsync(new AgentRequest(RequestType.PartialSignature, path) { Other = partial, BlockLength = blockLength ?? 0 }, blockLength, cancellation);

    /// <summary>Receiver: rebuilds the file at <paramref name="path"/> through its partial file (see
    /// <see cref="PartialSignatureAsync"/> for the basis <paramref name="signature"/> describes).</summary>
    public Task<TransferResult> ApplyPartialDeltaAsync(string path, string partial, bool partialDirectory, Signature signature, Stream source,
        long length, AttributeSet attributes, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(source);
        var request = new AgentRequest(RequestType.ApplyPartialDelta, path)
        {
            Other = partial,
            Flag = partialDirectory,
            BlockLength = signature.BlockLength,
            Length = length,
            Attributes = attributes,
        };
        return ApplyDeltaAsync(request, signature, source, cancellation);
    }
}
