using PSReplica.Engine.Endpoints;

namespace PSReplica.Engine.Protocol;

/// <summary>A DescribeFileSystem answer: the type (a name of at most 64 bytes), the time granularity in nanoseconds (1 to
/// a day), the flags (owners, permissions, symbolic links, hard links, case-sensitive), the longest name, and how it
/// was found (at most 32 bytes). Whether names follow Windows' rules is not sent: it comes from the type, by the same
/// table on this side, so an agent of any version is understood.</summary>
internal static class FileSystemTraitsCodec
{
    private const int MaxTypeBytes = 64;
    private const int MaxSourceBytes = 32;
    private const ulong MaxGranularity = 86_400_000_000_000;

    public static void Write(WireWriter writer, FileSystemTraits traits)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(traits);
        int flags = (traits.Owners ? 1 : 0) | (traits.Permissions ? 2 : 0) | (traits.SymbolicLinks ? 4 : 0) | (traits.HardLinks ? 8 : 0)
            | (traits.CaseSensitive ? 16 : 0);
        writer.String(Cut(traits.Type, MaxTypeBytes)).UInt((ulong)traits.TimeGranularity).Byte((byte)flags).UInt((ulong)traits.MaxNameLength)
            .String(Cut(traits.Source, MaxSourceBytes));
    }

    /// <exception cref="SyncException">ProtocolViolation for a value out of its bounds.</exception>
    public static FileSystemTraits Read(ref WireReader reader)
    {
        string type = reader.String(MaxTypeBytes);
        long granularity = (long)reader.UInt(MaxGranularity);
        byte flags = reader.Byte();
        int maxName = (int)reader.UInt(int.MaxValue);
        string source = reader.String(MaxSourceBytes);
        if (granularity < 1 || flags > 31 || maxName < 1)
        {
            throw ProtocolFault.Violation("a file system description out of its bounds");
        }

        return new FileSystemTraits
        {
            Type = type,
            TimeGranularity = granularity,
            Owners = (flags & 1) != 0,
            Permissions = (flags & 2) != 0,
            SymbolicLinks = (flags & 4) != 0,
            HardLinks = (flags & 8) != 0,
            CaseSensitive = (flags & 16) != 0,
            MaxNameLength = maxName,
            WindowsNamesOnly = FileSystemTraits.Known(type)?.WindowsNamesOnly == true,
            Source = source,
        };
    }

    private static string Cut(string text, int maxBytes) =>
        System.Text.Encoding.UTF8.GetByteCount(text) <= maxBytes ? text : text[..Math.Min(text.Length, maxBytes / 4)];
}
