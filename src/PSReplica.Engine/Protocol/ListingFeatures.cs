namespace PSReplica.Engine.Protocol;

/// <summary>The flags of <see cref="ListingOptions"/>.</summary>
[Flags]
internal enum ListingFeatures : byte
{
    None = 0,

    /// <summary>Apply the rules: leave out what they exclude and send the per-directory filter files read.</summary>
    Filter = 1,

    /// <summary>-DeleteExcluded: the rules are evaluated as that option makes them.</summary>
    DeleteExcluded = 2,

    /// <summary>-Delete: a receiver keeps listing what its rules leave at risk of deletion.</summary>
    Delete = 4,

    /// <summary>-Checksum: each regular file's entry is followed by its XXH3-128.</summary>
    Checksums = 8,

    /// <summary>-CopyLinks (sender only): links are listed as what they point to; reads follow links.</summary>
    CopyLinks = 16,

    /// <summary>-OneFileSystem (sender only, capability <see cref="Handshake.OneFileSystem"/>): a directory on another
    /// device than the root is listed but not walked into.</summary>
    OneFileSystem = 32,

    /// <summary>-Preserve Acls or ExtendedAttributes (capability <see cref="Handshake.ExtendedAttributes"/>): a scope byte
    /// follows the filter, and each file's and directory's entry ends with its attributes of that scope.</summary>
    ExtendedAttributes = 64,

    /// <summary>-Preserve Devices (capability <see cref="Handshake.Specials"/>): each block or character device's entry ends
    /// with its device number (major, minor), so that a device is made, and compared, with the right one.</summary>
    DeviceNumbers = 128,

    All = Filter | DeleteExcluded | Delete | Checksums | CopyLinks | OneFileSystem | ExtendedAttributes | DeviceNumbers,
}
