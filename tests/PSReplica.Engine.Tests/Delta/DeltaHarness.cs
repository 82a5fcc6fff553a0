using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Tests.Delta;

/// <summary>One op as a sink saw it.</summary>
internal readonly record struct DeltaOp(bool IsCopy, int FirstBlock, int BlockCount, byte[]? Data)
{
    public static DeltaOp Copy(int first, int count) => new(true, first, count, null);

    public static DeltaOp Literal(ReadOnlySpan<byte> data) => new(false, 0, 0, data.ToArray());

    public override string ToString() => IsCopy ? $"C({FirstBlock},{BlockCount})" : $"L({Data!.Length})";
}

/// <summary>Records every op and passes it on to an optional inner sink.</summary>
internal sealed class RecordingSink : IDeltaSink
{
    private readonly IDeltaSink? _inner;

    public RecordingSink(IDeltaSink? inner = null) => _inner = inner;

    public List<DeltaOp> Ops { get; } = [];

    public void Literal(ReadOnlySpan<byte> data)
    {
        Ops.Add(DeltaOp.Literal(data));
        _inner?.Literal(data);
    }

    public void Copy(int firstBlock, int blockCount)
    {
        Ops.Add(DeltaOp.Copy(firstBlock, blockCount));
        _inner?.Copy(firstBlock, blockCount);
    }
}

/// <summary>What one round trip produced.</summary>
/// <param name="Verified">False when the receiver's whole-file check refused the result.</param>
internal sealed record RoundTrip(byte[] Output, DeltaResult Result, IReadOnlyList<DeltaOp> Ops, Signature Signature,
    long WriterLiteralBytes, long WriterMatchedBytes, bool Verified);

/// <summary>A pair of temp files for a basis and a patched output, deleted on dispose.</summary>
internal sealed class PatchFiles : IDisposable
{
    private readonly string _directory;

    public PatchFiles(ReadOnlySpan<byte> basis)
    {
        _directory = Path.Combine(Path.GetTempPath(), "psreplica-delta-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        string basisPath = Path.Combine(_directory, "basis");
        File.WriteAllBytes(basisPath, basis.ToArray());
        Basis = File.OpenHandle(basisPath, FileMode.Open, FileAccess.Read);
        Output = File.OpenHandle(Path.Combine(_directory, "output"), FileMode.CreateNew, FileAccess.ReadWrite);
    }

    public SafeFileHandle Basis { get; }

    public SafeFileHandle Output { get; }

    public byte[] ReadOutput(long length)
    {
        var bytes = new byte[length];
        int done = 0;
        while (done < bytes.Length)
        {
            int read = RandomAccess.Read(Output, bytes.AsSpan(done), done);
            if (read <= 0)
            {
                throw new InvalidOperationException("The output is shorter than the patch writer says it wrote.");
            }

            done += read;
        }

        return bytes;
    }

    public void Dispose()
    {
        Basis.Dispose();
        Output.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>Signs a basis, matches a target against it and rebuilds the target with a <see cref="PatchWriter"/>,
/// either directly or through the delta's byte format.</summary>
internal static class DeltaHarness
{
    /// <summary>2 KiB and 4 KiB of 0/1 bytes (Random(19)): with 16-byte blocks their 2-byte strong sums give a false
    /// match every time, which only full strong sums avoid.</summary>
    public static (byte[] Basis, byte[] Target) FalseMatchPair()
    {
        var random = new Random(19);
        var basis = new byte[2048];
        var target = new byte[4096];
        for (int i = 0; i < basis.Length; i++)
        {
            basis[i] = (byte)random.Next(2);
        }

        for (int i = 0; i < target.Length; i++)
        {
            target[i] = (byte)random.Next(2);
        }

        return (basis, target);
    }

    public static Signature Sign(byte[] basis, int? blockLength)
    {
        using var stream = new MemoryStream(basis, writable: false);
        return SignatureBuilder.Build(stream, basis.Length, blockLength, default);
    }

    /// <summary>The same blocks with the full 16-byte strong checksum, as rsync's second pass ("redo") uses.</summary>
    public static Signature WithFullStrongSums(Signature signature, byte[] basis)
    {
        var full = new Signature(signature.FileLength, signature.BlockLength, StrongHash.FullLength);
        for (int i = 0; i < signature.Count; i++)
        {
            full.Weak[i] = signature.Weak[i];
            StrongHash.Compute(basis.AsSpan((int)signature.OffsetOf(i), signature.LengthOf(i)), full.Strong.AsSpan(i * StrongHash.FullLength, StrongHash.FullLength));
        }

        return full;
    }

    public static DeltaResult Match(Signature signature, byte[] target, IDeltaSink sink)
    {
        using var stream = new MemoryStream(target, writable: false);
        return new DeltaMatcher(signature).Run(stream, sink, default);
    }

    /// <summary>The matcher's output as the delta's byte format, end op included.</summary>
    public static byte[] Encode(Signature signature, byte[] target, out DeltaResult result)
    {
        using var encoded = new MemoryStream();
        var writer = new DeltaStreamWriter(encoded);
        result = Match(signature, target, writer);
        writer.End(result.Length, result.WholeFileHash);
        return encoded.ToArray();
    }

    /// <summary>Runs sender and receiver; a refused whole-file check is reported in <see cref="RoundTrip.Verified"/>,
    /// any other failure is thrown.</summary>
    public static RoundTrip Run(byte[] basis, byte[] target, int? blockLength, bool throughStream, bool fullStrongSums = false)
    {
        Signature signature = Sign(basis, blockLength);
        if (fullStrongSums)
        {
            signature = WithFullStrongSums(signature, basis);
        }


        using var files = new PatchFiles(basis);
        using var patch = new PatchWriter(files.Basis, basis.Length, signature.BlockLength, files.Output, target.Length);
        var recorder = new RecordingSink(patch);
        DeltaResult result;
        bool verified = true;
        if (throughStream)
        {
            using var encoded = new MemoryStream();
            var writer = new DeltaStreamWriter(encoded);
            result = Match(signature, target, new RecordingSink(writer));
            writer.End(result.Length, result.WholeFileHash);
            encoded.Position = 0;
            (long length, byte[] hash) = DeltaStream.Pump(encoded, recorder);
            Assert.Equal(encoded.Length, encoded.Position);
            Assert.Equal(result.Length, length);
            Assert.Equal(result.WholeFileHash, hash);
            verified = Verifies(patch, length, hash);
        }
        else
        {
            result = Match(signature, target, recorder);
            verified = Verifies(patch, result.Length, result.WholeFileHash);
        }

        Assert.Equal(target.Length, patch.Written);
        return new RoundTrip(files.ReadOutput(patch.Written), result, recorder.Ops, signature, patch.LiteralBytes, patch.MatchedBytes, verified);
    }

    private static bool Verifies(PatchWriter patch, long length, byte[] hash)
    {
        try
        {
            patch.Verify(length, hash);
            return true;
        }
        catch (SyncException e) when (e.ErrorId == ErrorIds.DeltaVerificationFailed)
        {
            return false;
        }
    }
}
