using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Remote;

/// <summary>The destination of a push: an agent in the receiver role. A delta update asks the agent for its basis's
/// signature, searches the local source here, and sends only the ops; everything else is one request each.</summary>
internal sealed class RemoteDestinationTree : IDestinationTree
{
    private readonly AgentClient _client;

    public RemoteDestinationTree(AgentClient client) => _client = client;

    public void CreateDirectory(string relative, AttributeSet attributes, CancellationToken cancellation) =>
        _client.CreateDirectoryAsync(relative, attributes, cancellation).GetAwaiter().GetResult();

    public TransferResult WriteFile(string relative, FileEntry source, bool delta, int? blockLength, AttributeSet attributes,
        Action<long>? progress, CancellationToken cancellation)
    {
        using SafeFileHandle handle = FileCopier.OpenSource(source.FullPath);
        using var stream = new CountingReadStream(new FileStream(handle, FileAccess.Read, 1), progress);
        if (delta)
        {
            Signature signature = _client.BuildSignatureAsync(relative, blockLength, cancellation).GetAwaiter().GetResult();
            return _client.ApplyDeltaAsync(relative, relative, signature, stream, source.Length, attributes, cancellation).GetAwaiter().GetResult();
        }

        return _client.WriteFileAsync(relative, stream, source.Length, attributes, cancellation).GetAwaiter().GetResult();
    }

    public void CreateSymbolicLink(string relative, string target, AttributeSet attributes, CancellationToken cancellation) =>
        _client.CreateSymbolicLinkAsync(relative, target, attributes, cancellation).GetAwaiter().GetResult();

    public void SetAttributes(string relative, AttributeSet attributes, CancellationToken cancellation) =>
        _client.SetAttributesAsync(relative, attributes, cancellation).GetAwaiter().GetResult();

    public void Delete(string relative, bool isDirectory, CancellationToken cancellation) =>
        _client.DeleteAsync(relative, isDirectory, cancellation).GetAwaiter().GetResult();

    /// <summary>Whether small changes may be sent without waiting for their answers (the agent keeps their order).</summary>
    public bool Pipelines => _client.OrdersChanges;

    /// <summary>Sends a create, link, set-attributes or delete request and returns once it is on its way (after the
    /// requests sent before it, ahead of those sent after it); the task returned is its answer.</summary>
    public Task Start(AgentRequest request, CancellationToken cancellation) =>
        _client.StartAsync(request, cancellation).GetAwaiter().GetResult();
}
