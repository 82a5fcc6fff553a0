namespace PSReplica;

/// <summary>Why the planner chose an action.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum SyncReason
{
    /// <summary>The item does not exist in the destination.</summary>
    New,

    /// <summary>The file's length differs.</summary>
    SizeChanged,

    /// <summary>The file's modification time differs (quick check).</summary>
    TimeChanged,

    /// <summary>The content differs (-Checksum).</summary>
    ChecksumChanged,

    /// <summary>Only permissions, times or ownership differ.</summary>
    MetadataChanged,

    /// <summary>The destination holds another kind of item under the same name.</summary>
    TypeChanged,

    /// <summary>A symbolic link points somewhere else.</summary>
    TargetChanged,

    /// <summary>-IgnoreTimes: transferred although size and time match.</summary>
    IgnoreTimes,

    /// <summary>The item exists only in the destination (-Delete).</summary>
    Extraneous,

    /// <summary>A temporary file left behind by an interrupted run.</summary>
    TemporaryFile,

    /// <summary>A block or character device's major or minor number differs (-Preserve Devices): it is made anew.</summary>
    DeviceChanged,

    /// <summary>-CompareDest: a basis directory holds the source's file unchanged, so the destination's out-of-date copy
    /// of it is deleted (the destination holds only what differs from the basis, as with rsync's --compare-dest).</summary>
    InBasisDirectory,
}
