namespace PSReplica.Engine.Protocol;

/// <summary>A stream that sends what is written to it without being flushed (a write-behind buffer drained by a thread
/// of its own), so that its Flush only reports a failure of the transport. <see cref="FrameWriter"/> then flushes right
/// after a frame instead of first yielding for other frames to join it: the stream gathers them itself, and the yield
/// would cost a thread-pool hop per frame for nothing.</summary>
internal interface IWriteBehindStream
{
}
