namespace PSReplica;

/// <summary>How a changed file's content is moved.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum TransferMode
{
    /// <summary>Whole files locally (as rsync's default for local copies); the delta algorithm over a network.</summary>
    Auto,

    /// <summary>Send only what differs from the destination's current file (rsync --no-whole-file).</summary>
    Delta,

    /// <summary>Copy changed files whole (rsync -W).</summary>
    WholeFile,
}
