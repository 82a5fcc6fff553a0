using System.Buffers;
using System.IO.Hashing;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Receiving;

internal static partial class TreeReceiver
{
    /// <summary>WriteBatch: writes each file of the body as <see cref="WriteFileAsync"/> writes one (temp file created
    /// beside its target without following links, verified, attributes through the descriptor, renamed into place) and
    /// answers each in order. A file that cannot be written is answered with its error and the batch goes on; a body
    /// that breaks the protocol ends the session. Results are sent whenever the next record has not arrived yet, so the
    /// controller settles its items as they are done, not at the end of the batch. With <paramref name="delayed"/>
    /// (-DelayUpdates) each file waits under its temp name for the session's burst, as WriteFile's does.</summary>
    public static byte[] WriteBatch(SafeTree tree, MuxStream stream, CancellationToken cancellation, DelayedRenames? delayed = null)
    {
        byte[] header = ArrayPool<byte>.Shared.Rent(BatchCodec.MaxHeader);
        byte[] data = ArrayPool<byte>.Shared.Rent(ProtocolLimits.MaxBatchFile + StrongHash.FullLength);
        using var message = new WireWriter(64);
        using var directory = new BatchDirectory(tree);
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

                if (!BatchCodec.ReadRecord(input, header, data, out BatchCodec.Record record))
                {
                    break;
                }

                cancellation.ThrowIfCancellationRequested();
                try
                {
                    WriteBatched(directory, record with { Attributes = tree.DefaultPermissions.Resolve(record.Path, record.Attributes) }, data, delayed, tree.Sparse);
                    BatchCodec.WriteSuccess(output, message, record.Length);
                }
                catch (SyncException ex) when (ex.ErrorId is not (ErrorIds.ProtocolViolation or ErrorIds.FrameTooLarge))
                {
                    BatchCodec.WriteFailure(output, message, ex);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    BatchCodec.WriteFailure(output, message, new SyncException(ErrorIds.FileWriteError, SyncErrorKind.WriteError,
                        $"Cannot write '{record.Path}': {ex.Message}", record.Path, ex));
                }
            }

            if (input.Trailer is not { Length: 0 })
            {
                throw ProtocolFault.Violation("a WriteBatch body whose end carries data");
            }

            output.Flush();
            return [];
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(data);
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    private static void WriteBatched(BatchDirectory directory, BatchCodec.Record record, byte[] data, DelayedRenames? delayed, bool sparse)
    {
        ReadOnlySpan<byte> content = data.AsSpan(0, record.Length);
        if (!XxHash128.Hash(content).AsSpan().SequenceEqual(data.AsSpan(record.Length, StrongHash.FullLength)))
        {
            throw new SyncException(ErrorIds.DeltaVerificationFailed, SyncErrorKind.WriteError,
                $"'{record.Path}' does not match the sender's checksum.", record.Path);
        }

        ParentDirectory parent = directory.Of(record.Path);
        // The batch keeps its directory open for the files after this one: the pending file only borrows it.
        using PendingFile pending = PendingFile.Beside(parent, record.Path);
        if (sparse)
        {
            SparseFiles.End(pending.Handle, SparseFiles.Write(pending.Handle, content, 0));
        }
        else
        {
            RandomAccess.Write(pending.Handle, content, 0);
        }

        Finish(pending, record.Attributes, delayed);
    }

    /// <summary>The directory of the batch's latest file, kept open while the next files go to the same one (they
    /// mostly do: a plan lists a directory's files together), so each file costs no walk from the root.</summary>
    private sealed class BatchDirectory : IDisposable
    {
        private readonly SafeTree _tree;
        private string? _path;
        private ParentDirectory _open;

        public BatchDirectory(SafeTree tree) => _tree = tree;

        public ParentDirectory Of(string relative)
        {
            int slash = relative.LastIndexOf('/');
            string path = slash < 0 ? string.Empty : relative[..slash];
            string name = relative[(slash + 1)..];
            if (!string.Equals(path, _path, StringComparison.Ordinal))
            {
                _open.Dispose();
                _open = default;
                _path = null;
                _open = _tree.OpenDirectory(path);
                _path = path;
            }

            return new ParentDirectory(_open.Handle, name, owned: false);
        }

        public void Dispose() => _open.Dispose();
    }
}
