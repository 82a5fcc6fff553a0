namespace PSReplica.Engine.Delta;

/// <summary>Receives the sender's delta: literal data and copies of runs of basis blocks, in target order.</summary>
internal interface IDeltaSink
{
    void Literal(ReadOnlySpan<byte> data);

    /// <summary>Copies <paramref name="blockCount"/> consecutive basis blocks starting at <paramref name="firstBlock"/>.</summary>
    void Copy(int firstBlock, int blockCount);
}
