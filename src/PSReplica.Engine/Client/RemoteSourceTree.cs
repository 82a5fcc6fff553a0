using PSReplica.Engine.Delta;
using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Client;

/// <summary>The source of a pull: an agent in the sender role. A delta update builds the local basis's signature
/// here, the agent searches its file against it, and the ops are patched into the local temp file and verified.</summary>
internal sealed class RemoteSourceTree : ISourceTree, ISourceRemoval, ICopyVerification
{
    private readonly AgentClient _client;
    private RemoteReadBatch? _batch;

    public RemoteSourceTree(AgentClient client) => _client = client;

    /// <summary>Whether small files may be asked for ahead in a read batch (the agent takes them).</summary>
    public bool Prefetches => _client.BatchesReads;

    /// <summary>Whether <paramref name="relative"/> may go in a batch: a batch's answer is compressed when the session
    /// compresses, so a name that says its content is compressed already is read on its own.</summary>
    public bool Batches(string relative) => !_client.Compresses || Protocol.FrameCompressor.Worthwhile(relative);

    /// <summary>Asks for a small file ahead of its copy (main thread); <see cref="Copy"/> takes it when it comes.</summary>
    public void Prefetch(string relative, CancellationToken cancellation)
    {
        if (_batch is null)
        {
            try
            {
                _batch = _client.StartReadBatchAsync(cancellation).GetAwaiter().GetResult();
            }
            catch (SyncException)
            {
                // The session is failing: the copy on its own reports the error.
                return;
            }
        }

        _batch.Request(relative);
    }

    /// <summary>Sends the prefetch requests gathered so far (main thread, before it waits).</summary>
    public void FlushPrefetch() => _batch?.FlushRequests();

    /// <summary>Ends the read batch's body (the copies still take what comes).</summary>
    public void EndPrefetch() => _batch?.End();

    /// <summary>After every copy is done: waits for the batch to finish; a later prefetch starts a new one.</summary>
    public void FinishPrefetch()
    {
        if (_batch is not null)
        {
            _batch.End();
            _batch.Completion.Wait(CancellationToken.None);
            _batch = null;
        }
    }

    public long Copy(string relative, SafeFileHandle target, Action<long>? progress, CancellationToken cancellation, bool sparse = false)
    {
        if (_batch is { } batch && batch.TryTake(relative, out Task<byte[]?> prefetched))
        {
            if (prefetched.WaitAsync(cancellation).GetAwaiter().GetResult() is { } data)
            {
                if (sparse)
                {
                    SparseFiles.End(target, SparseFiles.Write(target, data, 0));
                }
                else
                {
                    RandomAccess.Write(target, data, 0);
                }

                progress?.Invoke(data.Length);
                return data.Length;
            }
        }

        long length;
        using (var stream = new BufferedStream(new PositionalWriteStream(target, sparse), 1 << 16))
        {
            // Progress as the data arrives, not only at its end: -Progress moves during a large new file of a pull.
            length = _client.ReadFileAsync(relative, stream, cancellation, progress).GetAwaiter().GetResult();
            stream.Flush();
            progress?.Invoke(length);
        }

        if (sparse)
        {
            SparseFiles.End(target, length);
        }

        return length;
    }

    public DeltaResult CopyDelta(string relative, SafeFileHandle basis, long basisLength, SafeFileHandle target, int? blockLength, Action<long>? progress,
        CancellationToken cancellation, bool sparse = false)
    {
        Signature signature = SignatureBuilder.Build(basis, basisLength, blockLength, cancellation);
        using var writer = new PatchWriter(basis, basisLength, signature.BlockLength, target, long.MaxValue, sparse);
        DeltaResult result = _client.ComputeDeltaAsync(relative, signature, writer, cancellation, progress).GetAwaiter().GetResult();
        writer.Verify(result.Length, result.WholeFileHash);
        return result;
    }

    public long Read(string relative, Stream output, CancellationToken cancellation) =>
        _client.ReadFileAsync(relative, output, cancellation).GetAwaiter().GetResult();

    public DeltaResult Delta(string relative, Signature signature, IDeltaSink sink, Action<long>? progress, CancellationToken cancellation) =>
        _client.ComputeDeltaAsync(relative, signature, sink, cancellation, progress).GetAwaiter().GetResult();

    public void RemoveSource(string relative, Scanning.FileEntry listed, CancellationToken cancellation) =>
        _client.RemoveSourceAsync(relative, listed.Kind == Scanning.EntryKind.File ? listed.Length : 0, listed.MtimeSeconds, listed.MtimeNanoseconds,
            listed.Kind.FileType(), listed.Kind.IsDevice() ? listed.Rdev : 0, cancellation).GetAwaiter().GetResult();

    /// <summary>A pull's source file as the agent sees it now, with the XXH3-128 of its content (read through a
    /// descriptor opened without following links): -RemoveSourceFiles removes it only when the local copy hashes the same.</summary>
    public (Scanning.FileEntry Copy, UInt128? Checksum)? DescribeCopy(string relative, CancellationToken cancellation) =>
        _client.DescribeCopyAsync(relative, cancellation).GetAwaiter().GetResult() is { } entry
            ? (entry.ToFileEntry(relative), entry.Checksum)
            : null;
}
