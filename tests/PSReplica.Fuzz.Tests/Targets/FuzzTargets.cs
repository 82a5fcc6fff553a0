namespace PSReplica.Fuzz.Tests.Targets;

/// <summary>Every target, by name (the corpus folder's name).</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        ProtocolTargets.Frames,
        ProtocolTargets.Multiplexer,
        ProtocolTargets.HandshakeAccept,
        ProtocolTargets.HandshakeConnect,
        ProtocolTargets.Request,
        ProtocolTargets.FileSystemTraits,
        ProtocolTargets.WireErrors,
        StreamTargets.Listing,
        StreamTargets.CompactListing,
        StreamTargets.Batch,
        StreamTargets.Signature,
        StreamTargets.Delta,
        TextTargets.FilterRules,
        TextTargets.KnownHosts,
        TextTargets.SshConfig,
    ];

    public static FuzzTarget Named(string name) => All.Single(target => target.Name == name);
}
