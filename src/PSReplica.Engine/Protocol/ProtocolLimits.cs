namespace PSReplica.Engine.Protocol;

/// <summary>The bounds every value read from the peer is checked against before it is allocated or used.</summary>
internal static class ProtocolLimits
{
    /// <summary>The largest frame payload; a header announcing more ends the session before anything is allocated.</summary>
    public const int MaxFramePayload = 1 << 20;

    /// <summary>Bytes of file data, delta ops or signature per data frame.</summary>
    public const int DataChunk = 128 << 10;

    /// <summary>A listing frame is flushed once it holds this many bytes; records never straddle frames, so a listing frame
    /// stays below <see cref="DataChunk"/> (a directory path, a batch of this size and one more entry).</summary>
    public const int ListingChunk = 32 << 10;

    /// <summary>Bytes of file data per data frame on a stream its receiver has widened (<see cref="WideStreamWindow"/>): a
    /// quarter as many frames for a large file's body, so a quarter as many hand-offs between threads on each side (the
    /// receiver's reading thread and its writer, the sender's reader and its transport) and a quarter as many writes. A
    /// receiver takes any data frame its window allows.</summary>
    public const int WideDataChunk = 512 << 10;

    /// <summary>Data bytes a stream may have in flight before the receiving side grants more (per direction).</summary>
    public const int StreamWindow = 1 << 20;

    /// <summary>The window of a stream its receiver has widened (capability <c>wide-window</c>): the bulk data of a file goes
    /// through a pipeline of buffers (ssh's pipes and channel window of 2 MiB, the TCP connection, sshd, the agent's pipe)
    /// that a 1 MiB window left mostly empty, so the sender stopped for each grant's round trip.</summary>
    public const int WideStreamWindow = 4 << 20;

    /// <summary>Streams a receiver widens at once; others keep <see cref="StreamWindow"/>. Bounds what a peer can make this
    /// side queue: <see cref="MaxStreams"/> windows plus this many widenings.</summary>
    public const int MaxWideStreams = 4;

    /// <summary>Requests the controller may have open at once; the agent refuses more.</summary>
    public const int MaxStreams = 64;

    /// <summary>The longest relative path, in UTF-8 bytes (PATH_MAX).</summary>
    public const int MaxPathBytes = 4096;

    /// <summary>The longest name of one item, in UTF-8 bytes (NAME_MAX).</summary>
    public const int MaxNameBytes = 255;

    public const int MaxLinkTargetBytes = 4095;

    /// <summary>The largest file a WriteBatch record may carry (the controller batches only smaller ones).</summary>
    public const int MaxBatchFile = 1 << 20;

    public const int MaxMessageBytes = 8192;

    public const int MaxCapabilities = 64;

    /// <summary>The most blocks a signature may have (8 Mi blocks: 1 TiB at 128 KiB blocks).</summary>
    public const int MaxSignatureBlocks = 1 << 23;

    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(120);
}
