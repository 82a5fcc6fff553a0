namespace PSReplica;

/// <summary>An engine failure with a stable ErrorId, the item it concerns, and its kind.</summary>
public sealed class SyncException : Exception
{
    public SyncException(string errorId, SyncErrorKind kind, string message, string? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    public string ErrorId { get; }

    public SyncErrorKind Kind { get; }

    /// <summary>The path or value the error is about.</summary>
    public string? Target { get; }
}
