namespace PSReplica.Engine.Protocol;

/// <summary>The channel byte of a frame.</summary>
internal enum FrameKind : byte
{
    /// <summary>Session control on stream 0: handshake, keep-alive, goodbye.</summary>
    Control = 1,

    /// <summary>Opens a stream: the controller's request.</summary>
    Request = 2,

    /// <summary>A chunk of a stream's data (listing records, file bytes, signature, delta ops).</summary>
    Data = 3,

    /// <summary>Ends one direction of a stream; carries the result or the body's trailer.</summary>
    End = 4,

    /// <summary>Fails a stream (or, on stream 0, the session) with an ErrorId and a message.</summary>
    Error = 5,

    /// <summary>A line for the controller's log.</summary>
    Log = 6,

    /// <summary>Bytes done so far on a stream.</summary>
    Progress = 7,

    /// <summary>Grants the peer more data bytes on a stream (flow control).</summary>
    Window = 8,

    /// <summary>A data chunk compressed with deflate (only when both sides agreed to compress).</summary>
    CompressedData = 9,
}
