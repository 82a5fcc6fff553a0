using PSReplica.Engine.Delta;

namespace PSReplica.Engine.Execution;

/// <summary>Paces a delta's literal data by -BandwidthLimit on a local run: only literal data would cross a wire,
/// so copies of basis blocks pass at once. A literal run can be megabytes (a file with nothing to match goes in runs of
/// the search's buffer): it is handed on a chunk at a time, each charged before it goes, so that it leaves at the
/// limit's pace instead of in one burst after one long wait.</summary>
internal sealed class ThrottledSink : IDeltaSink
{
    private readonly IDeltaSink _target;
    private readonly BandwidthThrottle _throttle;
    private readonly CancellationToken _cancellation;

    public ThrottledSink(IDeltaSink target, BandwidthThrottle throttle, CancellationToken cancellation)
    {
        _target = target;
        _throttle = throttle;
        _cancellation = cancellation;
    }

    public void Literal(ReadOnlySpan<byte> data)
    {
        int chunk = (int)_throttle.Chunk;
        while (data.Length > 0)
        {
            ReadOnlySpan<byte> piece = data[..Math.Min(chunk, data.Length)];
            _throttle.Pace(piece.Length, _cancellation);
            _target.Literal(piece);
            data = data[piece.Length..];
        }
    }

    public void Copy(int firstBlock, int blockCount) => _target.Copy(firstBlock, blockCount);
}
