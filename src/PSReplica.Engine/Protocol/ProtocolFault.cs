namespace PSReplica.Engine.Protocol;

/// <summary>The errors that end a session because of what the peer sent or failed to send.</summary>
internal static class ProtocolFault
{
    public static SyncException Violation(string what) =>
        new(ErrorIds.ProtocolViolation, SyncErrorKind.InvalidOperation, "Protocol violation by the peer: " + what + ".");

    public static SyncException UnsafePath(string name, string why) =>
        new(ErrorIds.UnsafePath, SyncErrorKind.InvalidOperation, $"ABORTING due to unsafe path '{Printable(name)}' from the peer: {why}.", Printable(name));

    public static SyncException FrameTooLarge(long length) =>
        new(ErrorIds.FrameTooLarge, SyncErrorKind.LimitsExceeded,
            $"The peer announced a frame of {length} bytes; the limit is {ProtocolLimits.MaxFramePayload}.");

    public static SyncException Timeout(string what) =>
        new(ErrorIds.PeerTimeout, SyncErrorKind.ReadError, $"The peer sent nothing for {what}.");

    public static SyncException ConnectionLost(string what) =>
        new(ErrorIds.ConnectionLost, SyncErrorKind.ReadError, "The connection to the peer was lost: " + what + ".");

    /// <summary>Control characters escaped, so that a hostile name cannot forge terminal output.</summary>
    public static string Printable(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length);
        foreach (char c in name)
        {
            if (char.IsControl(c))
            {
                builder.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
