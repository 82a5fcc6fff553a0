using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace PSReplica.Engine.Native;

/// <summary>The one conversion between a file name's bytes and the engine's string for it. A POSIX name is bytes; the
/// engine holds it as a string in which every valid UTF-8 sequence is its character and every byte that is not part of
/// one is the lone surrogate U+DC80..U+DCFF (U+DC00 + the byte), as Python's surrogateescape (PEP 383) does. The mapping
/// is exact both ways: <c>GetBytes(Decode(b)) == b</c> for any bytes, so a name that is not UTF-8 is listed, opened,
/// created, compared, sent over the wire and written back byte for byte (as rsync does). Every place that turns a name
/// into bytes or back (system calls, directory listing, link targets, the protocol) goes through here; what users see
/// is <see cref="SyncNames"/>' escaped form, never these surrogates.</summary>
internal static class NameCodec
{
    private const char EscapeBase = '\uDC00';

    /// <summary>The string of a name's bytes: valid UTF-8 decoded, every other byte escaped as U+DC80..U+DCFF.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return Encoding.UTF8.GetString(bytes);
        }

        char[] chars = new char[bytes.Length];
        int length = 0;
        while (!bytes.IsEmpty)
        {
            _ = Utf8.ToUtf16(bytes, chars.AsSpan(length), out int read, out int written, replaceInvalidSequences: false, isFinalBlock: true);
            length += written;
            bytes = bytes[read..];
            if (!bytes.IsEmpty)
            {
                // One byte that begins no valid sequence here: escape it alone and decode on from the next.
                chars[length++] = (char)(EscapeBase + bytes[0]);
                bytes = bytes[1..];
            }
        }

        return new string(chars, 0, length);
    }

    /// <summary>True when <paramref name="text"/>[<paramref name="index"/>] stands for one raw byte: a U+DC80..U+DCFF that
    /// is not the second half of a surrogate pair.</summary>
    public static bool IsEscapedByte(ReadOnlySpan<char> text, int index)
    {
        char c = text[index];
        return c is >= '\uDC80' and <= '\uDCFF' && (index == 0 || !char.IsHighSurrogate(text[index - 1]));
    }

    /// <summary>True when the name holds a byte that is not UTF-8.</summary>
    public static bool HasEscapedBytes(ReadOnlySpan<char> text)
    {
        int at = text.IndexOfAnyInRange('\uDC80', '\uDCFF');
        if (at < 0)
        {
            return false;
        }

        for (int i = at; i < text.Length; i++)
        {
            if (IsEscapedByte(text, i))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The number of bytes of the name (<see cref="GetBytes"/>'s count).</summary>
    public static int GetByteCount(ReadOnlySpan<char> text)
    {
        if (!HasEscapedBytes(text))
        {
            return Encoding.UTF8.GetByteCount(text);
        }

        int count = 0;
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (IsEscapedByte(text, i))
            {
                count += Encoding.UTF8.GetByteCount(text[start..i]) + 1;
                start = i + 1;
            }
        }

        return count + Encoding.UTF8.GetByteCount(text[start..]);
    }

    /// <summary>Writes the name's bytes (escaped bytes as themselves, everything else UTF-8; a lone surrogate outside
    /// U+DC80..U+DCFF, which no listing yields, as U+FFFD) and returns their count.</summary>
    public static int GetBytes(ReadOnlySpan<char> text, Span<byte> bytes)
    {
        if (!HasEscapedBytes(text))
        {
            return Encoding.UTF8.GetBytes(text, bytes);
        }

        int length = 0;
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (IsEscapedByte(text, i))
            {
                length += Encoding.UTF8.GetBytes(text[start..i], bytes[length..]);
                bytes[length++] = (byte)(text[i] - EscapeBase);
                start = i + 1;
            }
        }

        return length + Encoding.UTF8.GetBytes(text[start..], bytes[length..]);
    }

    /// <summary>The name's bytes.</summary>
    public static byte[] GetBytes(string text)
    {
        byte[] bytes = new byte[GetByteCount(text)];
        _ = GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>The longest prefix of <paramref name="text"/> (in chars, never splitting a surrogate pair) whose bytes fit
    /// in <paramref name="budget"/>.</summary>
    public static int PrefixWithin(ReadOnlySpan<char> text, int budget)
    {
        int length = text.Length;
        while (length > 0 && GetByteCount(text[..length]) > budget)
        {
            length--;
        }

        if (length > 0 && length < text.Length && char.IsHighSurrogate(text[length - 1]))
        {
            length--;
        }

        return length;
    }
}
