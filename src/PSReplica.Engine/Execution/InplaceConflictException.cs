namespace PSReplica.Engine.Execution;

/// <summary>A delta asked for basis bytes that -Inplace had already overwritten.</summary>
internal sealed class InplaceConflictException : Exception
{
    public InplaceConflictException()
        : base("The delta copies a block that was already overwritten in place.")
    {
    }

    public InplaceConflictException(string message)
        : base(message)
    {
    }

    public InplaceConflictException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
