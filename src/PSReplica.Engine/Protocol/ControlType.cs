namespace PSReplica.Engine.Protocol;

/// <summary>The first byte of a control frame's payload.</summary>
internal enum ControlType : byte
{
    Hello = 1,
    Welcome = 2,
    Open = 3,
    Opened = 4,
    Ping = 5,
    Goodbye = 6,
}
