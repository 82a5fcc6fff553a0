using PSReplica.Engine.Delta;

namespace PSReplica.Engine.Execution;

/// <summary>Paces a delta's literal data by -BandwidthLimit on a local run: only literal data would cross a wire,
/// so copies of basis blocks pass at once.</summary>
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
        _throttle.Pace(data.Length, _cancellation);
        _target.Literal(data);
    }

    public void Copy(int firstBlock, int blockCount) => _target.Copy(firstBlock, blockCount);
}
