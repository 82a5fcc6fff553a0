using System.Buffers;
using System.IO.Hashing;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;

namespace PSReplica.Engine.Sender;

/// <summary>The agent's requests as the sender (a pull): a file's bytes, and a file's delta against the controller's
/// signature of its basis. Files are opened through the <see cref="SafeTree"/>, never through a link.</summary>
internal static class TreeSender
{
    /// <summary>How often a long search reports how far it has read (it sends little else meanwhile).</summary>
    private const long ProgressStep = 4 << 20;

    /// <summary>Streams the file; the end carries the length sent and its XXH3-128.</summary>
    public static async Task<byte[]> ReadFileAsync(SafeTree tree, MuxStream stream, AgentRequest request, CancellationToken cancellation)
    {
        using SafeFileHandle file = tree.OpenRegularFile(request.Path, ErrorIds.FileReadError, out _);
        var hash = new XxHash128();
        int chunk = stream.FrameLimit;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunk);
        long offset = 0;
        try
        {
            while (true)
            {
                int n = await RandomAccess.ReadAsync(file, buffer.AsMemory(0, chunk), offset, cancellation).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                hash.Append(buffer.AsSpan(0, n));
                await stream.SendDataAsync(buffer.AsMemory(0, n), cancellation).ConfigureAwait(false);
                offset += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        using var end = new WireWriter(32);
        end.UInt((ulong)offset).Bytes(hash.GetCurrentHash());
        return end.Written.ToArray();
    }

    /// <summary>ReadBatch: reads each file the body names (as ReadFile does: a regular file opened through the tree, no
    /// link followed) and answers each in order with its bytes, its error, or word that it is now too large for a batch.
    /// Answers are sent whenever the next path has not arrived yet.</summary>
    public static byte[] ReadBatch(SafeTree tree, MuxStream stream, CancellationToken cancellation)
    {
        byte[] path = ArrayPool<byte>.Shared.Rent(BatchCodec.MaxHeader);
        byte[] data = new byte[ProtocolLimits.MaxBatchFile + 1];
        using var message = new WireWriter(64);
        try
        {
            using var input = new MuxReadStream(stream, cancellation);
            using var output = new MuxWriteStream(stream, cancellation);
            while (true)
            {
                if (!input.DataReady)
                {
                    output.Flush();
                }

                if (!BatchCodec.ReadPath(input, path, out string relative))
                {
                    break;
                }

                cancellation.ThrowIfCancellationRequested();
                int length;
                try
                {
                    using SafeFileHandle file = tree.OpenRegularFile(relative, ErrorIds.FileReadError, out _);
                    length = BatchCodec.ReadWhole(file, data);
                }
                catch (SyncException ex) when (ex.ErrorId is not (ErrorIds.ProtocolViolation or ErrorIds.FrameTooLarge))
                {
                    BatchCodec.WriteFailure(output, message, ex);
                    continue;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    BatchCodec.WriteFailure(output, message, new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError,
                        $"Cannot read '{relative}': {ex.Message}", relative, ex));
                    continue;
                }

                if (length > ProtocolLimits.MaxBatchFile)
                {
                    BatchCodec.WriteTooLarge(output, message);
                }
                else
                {
                    BatchCodec.WriteFileRead(output, message, data.AsSpan(0, length));
                }
            }

            if (input.Trailer is not { Length: 0 })
            {
                throw ProtocolFault.Violation("a ReadBatch body whose end carries data");
            }

            output.Flush();
            return [];
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(path);
        }
    }

    /// <summary>Reads the signature from the body, runs the search over the file and streams the delta ops
    /// (<see cref="DeltaStream"/> format, ending with the end op); the end carries length, literal and matched bytes
    /// and the XXH3-128.</summary>
    public static byte[] ComputeDelta(SafeTree tree, MuxStream stream, AgentRequest request, CancellationToken cancellation)
    {
        Signature signature;
        using (var body = new MuxReadStream(stream, cancellation))
        {
            signature = SignatureCodec.Read(body);
            if (body.Trailer is not { Length: 0 })
            {
                throw ProtocolFault.Violation("a signature body with a trailer");
            }
        }

        using SafeFileHandle file = tree.OpenRegularFile(request.Path, ErrorIds.FileReadError, out _);
        using var input = new ProgressReadStream(new FileStream(file, FileAccess.Read, 1), done => stream.SendProgressAsync(done).GetAwaiter().GetResult(), ProgressStep);
        using var output = new MuxWriteStream(stream, cancellation);
        var writer = new DeltaStreamWriter(output);
        DeltaResult result = new DeltaMatcher(signature).Run(input, writer, cancellation);
        writer.End(result.Length, result.WholeFileHash);
        output.Flush();
        using var end = new WireWriter(48);
        end.UInt((ulong)result.Length).UInt((ulong)result.LiteralBytes).UInt((ulong)result.MatchedBytes).Bytes(result.WholeFileHash);
        return end.Written.ToArray();
    }
}
