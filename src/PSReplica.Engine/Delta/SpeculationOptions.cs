namespace PSReplica.Engine.Delta;

/// <summary>How a search that starts before its signature is complete (<see cref="DeltaMatcher.RunWhileSigning"/>)
/// keeps its risk bounded. Tests shrink these to make the overlap, and its failure, happen on small files.</summary>
/// <param name="Lead">How far (bytes) the hashed blocks must reach past the search, so that content a deletion
/// moved up to this far forward is found while the signature grows.</param>
/// <param name="TrustedLiteral">The most bytes taken as literal before the signature is complete; past it the search
/// waits for the whole signature and searches those bytes again.</param>
/// <param name="StretchBytes">How much basis the builder hashes between two publications of its progress.</param>
/// <param name="Published">Called on the builder's thread after each publication with the count of hashed blocks.</param>
internal sealed record SpeculationOptions(long Lead, long TrustedLiteral, int StretchBytes, Action<int>? Published)
{
    public static SpeculationOptions Default { get; } = new(64L << 20, 8L << 20, 1 << 20, null);
}
