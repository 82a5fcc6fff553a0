using System.Text;
using PSReplica.Engine.Native;

namespace PSReplica;

/// <summary>How names that are not UTF-8 are shown to PowerShell and read back (about_PSReplica, "Names that are not
/// UTF-8"). A POSIX name is bytes; the engine keeps every byte that is not part of valid UTF-8 exactly
/// (<see cref="NameCodec"/>). Strings that leave the engine (RelativePath, LinkTarget, paths, error messages, the log)
/// show such a byte as rsync's output does, <c>\#ooo</c> (three octal digits), and a backslash that a real name has
/// before a <c>#</c> as <c>\#134</c>, so that the form is unambiguous: <see cref="Parse"/> turns every <c>\#ooo</c>
/// back into its byte, and <c>Parse(Show(name)) == name</c> for every name.</summary>
public static class SyncNames
{
    /// <summary>The shown form of a name or path: valid Unicode, equal to the name unless it holds a byte that is not
    /// UTF-8 or the two characters <c>\#</c>.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(name))]
    public static string? Show(string? name)
    {
        if (name is null || (!NameCodec.HasEscapedBytes(name) && !name.Contains("\\#", StringComparison.Ordinal)))
        {
            return name;
        }

        var shown = new StringBuilder(name.Length + 16);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (NameCodec.IsEscapedByte(name, i))
            {
                Octal(shown, c - 0xDC00);
            }
            else if (c == '\\' && i + 1 < name.Length && name[i + 1] == '#')
            {
                Octal(shown, '\\');
            }
            else
            {
                shown.Append(c);
            }
        }

        return shown.ToString();
    }

    /// <summary>The name a shown form stands for: every <c>\#ooo</c> (three octal digits, at most 377) is that byte, the
    /// rest is itself; the bytes are then read as <see cref="NameCodec"/> reads a name, so a form that spells a valid
    /// UTF-8 sequence byte by byte is that character, as the file system would list it.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(shown))]
    public static string? Parse(string? shown)
    {
        if (shown is null || !shown.Contains("\\#", StringComparison.Ordinal))
        {
            return shown;
        }

        var bytes = new List<byte>(shown.Length + 8);
        int start = 0;
        for (int i = 0; i + 4 < shown.Length; i++)
        {
            if (shown[i] == '\\' && shown[i + 1] == '#' && IsOctal(shown, i + 2, out int value))
            {
                bytes.AddRange(NameCodec.GetBytes(shown[start..i]));
                bytes.Add((byte)value);
                i += 4;
                start = i + 1;
            }
        }

        bytes.AddRange(NameCodec.GetBytes(shown[start..]));
        return NameCodec.Decode(bytes.ToArray());
    }

    /// <summary>A copy of <paramref name="item"/> with its names shown (<see cref="Show"/>), or the item itself when no
    /// name needs it.</summary>
    public static SyncItem Show(SyncItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        string relative = Show(item.RelativePath);
        string? target = Show(item.LinkTarget);
        string destination = Show(item.DestinationPath);
        string? source = Show(item.SourcePath);
        if (ReferenceEquals(relative, item.RelativePath) && ReferenceEquals(target, item.LinkTarget)
            && ReferenceEquals(destination, item.DestinationPath) && ReferenceEquals(source, item.SourcePath))
        {
            return item;
        }

        return new SyncItem(item.Action, item.ItemType, relative, item.Reason, item.Itemize)
        {
            Length = item.Length,
            BytesTransferred = item.BytesTransferred,
            BytesMatched = item.BytesMatched,
            LastWriteTimeUtc = item.LastWriteTimeUtc,
            LinkTarget = target,
            DestinationPath = destination,
            SourcePath = source,
            PreviousLength = item.PreviousLength,
            PreviousLastWriteTimeUtc = item.PreviousLastWriteTimeUtc,
            Plan = item.Plan,
        };
    }

    private static void Octal(StringBuilder shown, int value) =>
        shown.Append('\\').Append('#').Append(Convert.ToString(value, 8).PadLeft(3, '0'));

    private static bool IsOctal(string text, int at, out int value)
    {
        value = 0;
        for (int i = at; i < at + 3; i++)
        {
            if (text[i] is < '0' or > '7')
            {
                return false;
            }

            value = (value * 8) + (text[i] - '0');
        }

        return value <= 0xFF;
    }
}
