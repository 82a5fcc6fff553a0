namespace PSReplica.Engine.Protocol;

/// <summary>The first byte of a request frame's payload: what the controller asks of the agent.</summary>
internal enum RequestType : byte
{
    /// <summary>Both roles: the entries of a directory (and, recursively, of its subdirectories).</summary>
    List = 1,

    /// <summary>Sender: a file's bytes.</summary>
    ReadFile = 2,

    /// <summary>Sender: the delta of a file against the signature in the request's body.</summary>
    ComputeDelta = 3,

    /// <summary>Receiver: the block signature of a basis file.</summary>
    BuildSignature = 4,

    /// <summary>Receiver: a whole file from the body, verified, renamed into place, attributes applied.</summary>
    WriteFile = 5,

    /// <summary>Receiver: a file rebuilt from a basis and the delta ops in the body.</summary>
    ApplyDelta = 6,

    CreateDirectory = 7,
    CreateSymbolicLink = 8,
    SetAttributes = 9,
    Delete = 10,
}
