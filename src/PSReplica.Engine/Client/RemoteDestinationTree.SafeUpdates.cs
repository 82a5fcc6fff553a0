using PSReplica.Engine.Delta;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Client;

/// <summary>-DelayUpdates and -Inplace on a push, through the agent's "safe-updates" requests.</summary>
internal sealed partial class RemoteDestinationTree
{
    /// <summary>-DelayUpdates: the agent keeps finished files under their temp names until <see cref="CommitUpdates"/>.</summary>
    public bool DelaysUpdates { get; }

    /// <summary>Tells the agent to keep this session's finished files waiting (before the first write of the run).</summary>
    public void DelayUpdates(CancellationToken cancellation) => _client.DelayUpdatesAsync(cancellation).GetAwaiter().GetResult();

    /// <summary>The burst at the end of the run: every waiting file renamed into place; what failed, as for
    /// <see cref="AgentClient.CommitUpdatesAsync"/>.</summary>
    public (long Failed, List<(string Path, string Message)> Listed) CommitUpdates(CancellationToken cancellation) =>
        _client.CommitUpdatesAsync(cancellation).GetAwaiter().GetResult();

    /// <summary>-Inplace: rewrites the file at <paramref name="relative"/> itself. With <paramref name="delta"/>, by a
    /// delta against its own signature; else with the whole of <paramref name="source"/> (a new file when not
    /// <paramref name="exists"/>).</summary>
    public TransferResult WriteInPlace(string relative, FileEntry source, bool exists, bool delta, int? blockLength, AttributeSet attributes,
        Action<long>? progress, CancellationToken cancellation)
    {
        using CountingReadStream stream = OpenSource(relative, source, progress);
        if (delta)
        {
            Signature signature = _client.BuildSignatureAsync(relative, blockLength, cancellation).GetAwaiter().GetResult();
            using SafeFileHandle literal = _sources.Open(relative, source);
            return _client.ApplyInplaceDeltaAsync(relative, signature, stream, literal, source.Length, attributes, cancellation).GetAwaiter().GetResult();
        }

        return _client.WriteInplaceAsync(relative, !exists, stream, source.Length, attributes, cancellation).GetAwaiter().GetResult();
    }
}
