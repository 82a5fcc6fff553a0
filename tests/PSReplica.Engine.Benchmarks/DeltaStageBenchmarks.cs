using System;
using System.IO;
using BenchmarkDotNet.Attributes;
using PSReplica.Engine.Delta;

namespace PSReplica.Engine.Benchmarks;

/// <summary>The delta engine's stages on 64 MiB in memory: signature building, and the sender's search over data
/// identical to the basis (every block matches) and over unrelated data (every offset is rolled and probed).</summary>
[MemoryDiagnoser]
public class DeltaStageBenchmarks
{
    private const int Length = 64 << 20;

    private byte[] _basis = [];
    private byte[] _unrelated = [];
    private Signature? _signature;
    private DeltaMatcher? _matcher;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _basis = new byte[Length];
        _unrelated = new byte[Length];
        random.NextBytes(_basis);
        random.NextBytes(_unrelated);
        _signature = SignatureBuilder.Build(new MemoryStream(_basis), Length, null, default);
        _matcher = new DeltaMatcher(_signature);
    }

    [Benchmark]
    public int BuildSignature() => SignatureBuilder.Build(new MemoryStream(_basis), Length, null, default).Count;

    [Benchmark]
    public long MatchIdentical() => _matcher!.Run(new MemoryStream(_basis), NullSink.Instance, default).MatchedBytes;

    [Benchmark]
    public long MatchUnrelated() => _matcher!.Run(new MemoryStream(_unrelated), NullSink.Instance, default).LiteralBytes;

    [Benchmark]
    public uint RollingChecksumOfBlock() => RollingChecksum.Compute(_basis.AsSpan(0, _signature!.BlockLength));

    private sealed class NullSink : IDeltaSink
    {
        public static readonly NullSink Instance = new();

        public void Literal(ReadOnlySpan<byte> data)
        {
        }

        public void Copy(int firstBlock, int blockCount)
        {
        }
    }
}
