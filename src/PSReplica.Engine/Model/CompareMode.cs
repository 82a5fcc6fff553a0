namespace PSReplica;

/// <summary>How the planner decides that a file's content must be transferred.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum CompareMode
{
    /// <summary>rsync's quick check: size and modification time.</summary>
    QuickCheck,

    /// <summary>Compare content hashes of files of equal size (rsync -c).</summary>
    Checksum,

    /// <summary>Compare sizes only (rsync --size-only).</summary>
    SizeOnly,

    /// <summary>Transfer every file (rsync -I).</summary>
    IgnoreTimes,
}
