using System;
using System.IO;
using System.Threading;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Remote;

/// <summary>The source of a pull: an agent in the sender role. A delta update builds the local basis's signature
/// here, the agent searches its file against it, and the ops are patched into the local temp file and verified.</summary>
internal sealed class RemoteSourceTree : ISourceTree, ISourceRemoval
{
    private readonly AgentClient _client;

    public RemoteSourceTree(AgentClient client) => _client = client;

    public long Copy(string relative, string target, Action<long>? progress, Action<SafeFileHandle>? finish, CancellationToken cancellation)
    {
        using SafeFileHandle output = FileCopier.OpenTarget(target);
        long length;
        using (var stream = new FileStream(output, FileAccess.Write, 1 << 16))
        {
            length = _client.ReadFileAsync(relative, stream, cancellation).GetAwaiter().GetResult();
            stream.Flush();
            progress?.Invoke(length);
            finish?.Invoke(output);
        }

        return length;
    }

    public DeltaResult CopyDelta(string relative, string basis, string target, int? blockLength, Action<long>? progress,
        Action<SafeFileHandle>? finish, CancellationToken cancellation)
    {
        using SafeFileHandle basisHandle = FileCopier.OpenSource(basis);
        long basisLength = RandomAccess.GetLength(basisHandle);
        Signature signature = SignatureBuilder.Build(basisHandle, basisLength, blockLength, cancellation);
        using SafeFileHandle output = FileCopier.OpenTarget(target);
        using var writer = new PatchWriter(basisHandle, basisLength, signature.BlockLength, output, long.MaxValue);
        DeltaResult result = _client.ComputeDeltaAsync(relative, signature, writer, cancellation, progress).GetAwaiter().GetResult();
        writer.Verify(result.Length, result.WholeFileHash);
        finish?.Invoke(output);
        return result;
    }

    public long Read(string relative, Stream output, CancellationToken cancellation) =>
        _client.ReadFileAsync(relative, output, cancellation).GetAwaiter().GetResult();

    public DeltaResult Delta(string relative, Signature signature, IDeltaSink sink, Action<long>? progress, CancellationToken cancellation) =>
        _client.ComputeDeltaAsync(relative, signature, sink, cancellation, progress).GetAwaiter().GetResult();

    public void RemoveSource(string relative, Scanning.FileEntry listed, CancellationToken cancellation) =>
        _client.RemoveSourceAsync(relative, listed.Kind == Scanning.EntryKind.File ? listed.Length : 0, listed.MtimeSeconds, listed.MtimeNanoseconds, cancellation)
            .GetAwaiter().GetResult();
}
