using System.Management.Automation;

namespace PSReplica.Commands.Hosting;

/// <summary>The one place that turns engine exceptions into ErrorRecords with their stable ErrorIds.</summary>
internal static class ErrorRecordFactory
{
    public static ErrorRecord Create(SyncException error) =>
        new(error, error.ErrorId, Category(error.Kind), error.Target);

    public static ErrorRecord Create(string errorId, ErrorCategory category, string message, object? target) =>
        new(new PSArgumentException(message), errorId, category, target);

    private static ErrorCategory Category(SyncErrorKind kind) => kind switch
    {
        SyncErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        SyncErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        SyncErrorKind.ReadError => ErrorCategory.ReadError,
        SyncErrorKind.WriteError => ErrorCategory.WriteError,
        SyncErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        SyncErrorKind.LimitsExceeded => ErrorCategory.LimitsExceeded,
        _ => ErrorCategory.InvalidOperation,
    };
}
