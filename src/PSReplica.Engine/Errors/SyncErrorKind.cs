namespace PSReplica;

/// <summary>The engine's classification of an error; the cmdlets map it to PowerShell's ErrorCategory.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum SyncErrorKind
{
    NotFound,
    PermissionDenied,
    ReadError,
    WriteError,
    InvalidArgument,
    InvalidOperation,
    LimitsExceeded,
}
