using System.Management.Automation;

namespace PSReplica.Commands.Hosting;

/// <summary>The one place that turns engine exceptions into ErrorRecords with their stable ErrorIds.</summary>
internal static class ErrorRecordFactory
{
    /// <summary>The record of an engine error; a name in it that is not UTF-8 is shown as \#ooo (<see cref="SyncNames"/>).</summary>
    public static ErrorRecord Create(SyncException error)
    {
        string message = SyncNames.Show(error.Message);
        var record = new ErrorRecord(error, error.ErrorId, Category(error.Kind), error.Target is string target ? SyncNames.Show(target) : error.Target);
        if (!ReferenceEquals(message, error.Message))
        {
            record.ErrorDetails = new ErrorDetails(message);
        }

        return record;
    }

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
