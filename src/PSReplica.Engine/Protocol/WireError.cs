using System.Reflection;

namespace PSReplica.Engine.Protocol;

/// <summary>The payload of an error frame: an ErrorId, the kind, a message and the item it concerns. An id the
/// controller does not know becomes AgentFailed: the peer cannot make up ErrorIds.</summary>
internal static class WireError
{
    private static readonly HashSet<string> s_known = KnownIds();

    public static void Write(WireWriter writer, SyncException error)
    {
        writer.String(error.ErrorId)
            .Byte((byte)error.Kind)
            .String(Truncate(error.Message))
            .String(Truncate(error.Target ?? string.Empty));
    }

    public static SyncException Read(ReadOnlySpan<byte> payload, string origin)
    {
        var reader = new WireReader(payload);
        SyncException error = Read(ref reader, origin);
        reader.ExpectEnd();
        return error;
    }

    public static SyncException Read(ref WireReader reader, string origin)
    {
        string id = reader.String(128);
        byte kind = reader.Byte();
        string message = reader.String(ProtocolLimits.MaxMessageBytes);
        string target = reader.String(ProtocolLimits.MaxMessageBytes);
        if (!s_known.Contains(id) || kind > (byte)SyncErrorKind.LimitsExceeded)
        {
            return new SyncException(ErrorIds.AgentFailed, SyncErrorKind.InvalidOperation,
                $"The {origin} failed: {ProtocolFault.Printable(message)} ({ProtocolFault.Printable(id)})");
        }

        return new SyncException(id, (SyncErrorKind)kind, ProtocolFault.Printable(message), target.Length == 0 ? null : ProtocolFault.Printable(target));
    }

    private static string Truncate(string text)
    {
        while (System.Text.Encoding.UTF8.GetByteCount(text) > ProtocolLimits.MaxMessageBytes)
        {
            text = text[..(text.Length / 2)];
        }

        return text;
    }

    private static HashSet<string> KnownIds()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (FieldInfo field in typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (field.IsLiteral && field.GetRawConstantValue() is string value)
            {
                ids.Add(value);
            }
        }

        return ids;
    }
}
