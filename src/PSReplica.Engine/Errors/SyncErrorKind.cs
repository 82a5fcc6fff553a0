namespace PSReplica;

/// <summary>The engine's classification of an error; the cmdlets map it to PowerShell's ErrorCategory.</summary>
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
