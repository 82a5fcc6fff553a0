using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>The controller's guard keeps a push's -Inplace delta one that the agent's writer, which has no source to
/// fall back on, can apply: any rearrangement of the old blocks rebuilds the new file in the same file.</summary>
public sealed class InplaceDeltaGuardTests : IDisposable
{
    private const int BlockLength = 1024;
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Any_rearrangement_of_blocks_is_rebuilt_in_place_without_a_source_at_the_writer(int seed)
    {
        var random = new Random(seed);
        byte[] old = new byte[(150 + random.Next(50)) * BlockLength + random.Next(BlockLength)];
        random.NextBytes(old);
        byte[] updated = Rearrange(old, random);

        (byte[] result, long matched) = Apply(old, updated, guarded: true);

        Assert.Equal(updated, result);
        Assert.True(matched > 0);
    }

    [Fact]
    public void Without_the_guard_the_writer_meets_overwritten_blocks()
    {
        // The control: reversed blocks need, in the second half, blocks the first half overwrote.
        byte[] old = new byte[64 * BlockLength];
        new Random(9).NextBytes(old);
        byte[] reversed = new byte[old.Length];
        for (int block = 0; block < 64; block++)
        {
            Array.Copy(old, (63 - block) * BlockLength, reversed, block * BlockLength, BlockLength);
        }

        Assert.Throws<InplaceConflictException>(() => Apply(old, reversed, guarded: false));
        (byte[] result, _) = Apply(old, reversed, guarded: true);
        Assert.Equal(reversed, result);
    }

    /// <summary>Runs of old blocks in a shuffled order (some at odd offsets), with new bytes between some of them.</summary>
    private static byte[] Rearrange(byte[] old, Random random)
    {
        var result = new List<byte>();
        while (result.Count < old.Length)
        {
            int start = random.Next(old.Length - (4 * BlockLength));
            if (random.Next(3) == 0)
            {
                start -= start % BlockLength;
            }

            int length = random.Next(1, 4 * BlockLength);
            result.AddRange(old.AsSpan(start, length).ToArray());
            if (random.Next(4) == 0)
            {
                byte[] fresh = new byte[random.Next(1, 3000)];
                random.NextBytes(fresh);
                result.AddRange(fresh);
            }
        }

        return [.. result];
    }

    private (byte[] Result, long Matched) Apply(byte[] old, byte[] updated, bool guarded)
    {
        string target = Path.Join(_tree.Root, "target-" + Guid.NewGuid().ToString("N"));
        string source = Path.Join(_tree.Root, "source-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(target, old);
        File.WriteAllBytes(source, updated);
        using SafeFileHandle file = Posix.Open(target, Posix.ORdWr, 0, out _)!;
        using SafeFileHandle literal = Posix.Open(source, Posix.ORdOnly, 0, out _)!;
        Signature signature = SignatureBuilder.Build(file, old.Length, BlockLength, CancellationToken.None);
        using var writer = new InplacePatchWriter(file, old.Length, BlockLength, source: null);
        IDeltaSink sink = guarded ? new InplaceDeltaGuard(writer, literal, signature) : writer;
        using var input = new MemoryStream(updated);
        DeltaResult delta = new DeltaMatcher(signature).Run(input, sink, CancellationToken.None);
        writer.Verify(delta.Length, delta.WholeFileHash);
        RandomAccess.SetLength(file, delta.Length);
        return (File.ReadAllBytes(target), writer.MatchedBytes);
    }
}
