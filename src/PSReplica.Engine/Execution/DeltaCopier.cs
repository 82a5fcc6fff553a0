using System;
using System.IO;
using System.Threading;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Execution;

/// <summary>Rebuilds a changed file from the destination's current copy (the basis) and the delta of the source
/// against it: the receiver's signature, the sender's search and the receiver's patch, wired in one process.</summary>
internal static class DeltaCopier
{
    /// <summary>Writes the new file to <paramref name="target"/> (a new temp file) and verifies it against the
    /// source's whole-file checksum; <paramref name="finish"/> gets the open target.</summary>
    /// <exception cref="SyncException">DeltaVerificationFailed when the rebuilt file does not match.</exception>
    public static DeltaResult Copy(string source, string basis, string target, int? blockLength, Action<long>? progress,
        Action<SafeFileHandle>? finish, CancellationToken cancellation)
    {
        using SafeFileHandle basisHandle = FileCopier.OpenSource(basis);
        long basisLength = RandomAccess.GetLength(basisHandle);
        Signature signature = SignatureBuilder.Build(basisHandle, basisLength, blockLength, cancellation);

        using SafeFileHandle input = FileCopier.OpenSource(source);
        using SafeFileHandle output = FileCopier.OpenTarget(target);
        using var writer = new PatchWriter(basisHandle, basisLength, signature.BlockLength, output, long.MaxValue);
        using var sourceStream = new ProgressStream(new FileStream(input, FileAccess.Read, 1), progress);
        DeltaResult result;
        using (var pipeline = new PipelinedSink(writer, cancellation))
        {
            result = new DeltaMatcher(signature).Run(sourceStream, pipeline, cancellation);
            pipeline.Complete();
        }

        writer.Verify(result.Length, result.WholeFileHash);
        finish?.Invoke(output);
        return result;
    }

    /// <summary>Counts what the search reads, for progress.</summary>
    private sealed class ProgressStream(Stream inner, Action<long>? progress) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            _read += n;
            if (n > 0)
            {
                progress?.Invoke(_read);
            }

            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
