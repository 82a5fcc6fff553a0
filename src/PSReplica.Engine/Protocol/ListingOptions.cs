namespace PSReplica.Engine.Protocol;

/// <summary>What a version-2 List request asks of the agent's walk besides the entries (capability
/// <see cref="Handshake.ListingFilters"/>): the filter rules to apply as the planner would (pruning what it would skip
/// and sending the per-directory filter files it reads), checksums of regular files (-Checksum), links followed
/// (-CopyLinks, sender only), and the walk kept on the root's file system (-OneFileSystem, sender only, capability
/// <see cref="Handshake.OneFileSystem"/>).</summary>
/// <param name="Filter">The rules in rsync's syntax, one per line (<see cref="SyncFilter.ToString"/>); empty for none.</param>
internal sealed record ListingOptions(ListingFeatures Features, string Filter)
{
    /// <summary>The longest rule text accepted.</summary>
    public const int MaxFilterBytes = 256 << 10;

    public static ListingOptions None { get; } = new(ListingFeatures.None, string.Empty);

    public bool Has(ListingFeatures feature) => (Features & feature) != 0;

    /// <summary>With <see cref="ListingFeatures.ExtendedAttributes"/>: the namespaces listed.</summary>
    public Metadata.XattrScope XattrScope { get; init; }

    public void Write(WireWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt((uint)Features).String(Filter);
        if (Has(ListingFeatures.ExtendedAttributes))
        {
            writer.Byte((byte)XattrScope);
        }
    }

    public static ListingOptions Read(ref WireReader reader)
    {
        var features = (ListingFeatures)reader.UInt((ulong)ListingFeatures.All);
        string filter = reader.String(MaxFilterBytes);
        var scope = Metadata.XattrScope.None;
        if ((features & ListingFeatures.ExtendedAttributes) != 0)
        {
            byte bits = reader.Byte();
            if (bits == 0 || (bits & ~(byte)Metadata.XattrScope.All) != 0)
            {
                throw ProtocolFault.Violation($"an extended attribute scope 0x{bits:x2}");
            }

            scope = (Metadata.XattrScope)bits;
        }

        return new ListingOptions(features, filter) { XattrScope = scope };
    }
}
