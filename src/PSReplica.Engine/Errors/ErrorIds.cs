namespace PSReplica;

/// <summary>The stable ErrorIds of every error and warning record the module writes; tests assert on them.</summary>
public static class ErrorIds
{
    public const string SourceNotFound = nameof(SourceNotFound);
    public const string SourceUnreadable = nameof(SourceUnreadable);
    public const string SourceNotDirectory = nameof(SourceNotDirectory);
    public const string SourceAmbiguous = nameof(SourceAmbiguous);
    public const string DestinationNotDirectory = nameof(DestinationNotDirectory);
    public const string DestinationCreateFailed = nameof(DestinationCreateFailed);
    public const string SameSourceAndDestination = nameof(SameSourceAndDestination);
    public const string DestinationInsideSource = nameof(DestinationInsideSource);
    public const string SourceInsideDestination = nameof(SourceInsideDestination);
    public const string InvalidFilterPattern = nameof(InvalidFilterPattern);
    public const string InvalidParameterCombination = nameof(InvalidParameterCombination);
    public const string ScanError = nameof(ScanError);
    public const string DeletionSkippedAfterIoError = nameof(DeletionSkippedAfterIoError);
    public const string MaxDeleteExceeded = nameof(MaxDeleteExceeded);
    public const string PermissionDenied = nameof(PermissionDenied);
    public const string SourceVanished = nameof(SourceVanished);
    public const string FileReadError = nameof(FileReadError);
    public const string FileWriteError = nameof(FileWriteError);
    public const string DeleteFailed = nameof(DeleteFailed);
    public const string MetadataFailed = nameof(MetadataFailed);
    public const string SymbolicLinkFailed = nameof(SymbolicLinkFailed);
    public const string SymbolicLinkNoReferent = nameof(SymbolicLinkNoReferent);
    public const string CannotReplaceNonEmptyDirectory = nameof(CannotReplaceNonEmptyDirectory);
    public const string DeltaStreamInvalid = nameof(DeltaStreamInvalid);
    public const string DeltaVerificationFailed = nameof(DeltaVerificationFailed);

    // Filter rules and merge files.
    /// <summary>A filter rule (inline, in a merge file or in a per-directory file) is malformed.</summary>
    public const string InvalidFilterRule = nameof(InvalidFilterRule);

    /// <summary>A merge file, exclude-from/include-from file or .gitignore named by a rule or parameter cannot be read.</summary>
    public const string FilterFileUnreadable = nameof(FilterFileUnreadable);

    // Backups, basis directories and partial files.

    // SSH connections and host keys.

    // The agent and its protocol.
}
