namespace PSReplica.Engine.Planning;

/// <summary>Builds rsync's --itemize-changes strings (YXcstpoguax). One letter is PSReplica's own: 'A' in the last place
/// for Windows' file attributes (-Preserve Attributes), where rsync puts 'x' for extended attributes; the two never meet,
/// as only the portable backend on Windows holds the one and it holds none of the other.</summary>
internal static class Itemizer
{
    public const string Deleting = "*deleting  ";

    public static char TypeCode(SyncItemType type) => type switch
    {
        SyncItemType.Directory => 'd',
        SyncItemType.SymbolicLink => 'L',
        SyncItemType.BlockDevice or SyncItemType.CharacterDevice => 'D',
        SyncItemType.Fifo or SyncItemType.Socket => 'S',
        _ => 'f',
    };

    public static string New(char update, SyncItemType type) => string.Create(11, (update, type), static (span, s) =>
    {
        span[0] = s.update;
        span[1] = TypeCode(s.type);
        span[2..].Fill('+');
    });

    public static string Changed(char update, SyncItemType type, bool checksum, bool size, char time, AttributeChanges changes)
    {
        Span<char> s = stackalloc char[11];
        s.Fill('.');
        s[0] = update;
        s[1] = TypeCode(type);
        if (checksum)
        {
            s[2] = 'c';
        }

        if (size)
        {
            s[3] = 's';
        }

        s[4] = time;
        if ((changes & AttributeChanges.Permissions) != 0)
        {
            s[5] = 'p';
        }

        if ((changes & AttributeChanges.Owner) != 0)
        {
            s[6] = 'o';
        }

        if ((changes & AttributeChanges.Group) != 0)
        {
            s[7] = 'g';
        }

        if ((changes & AttributeChanges.Acls) != 0)
        {
            s[9] = 'a';
        }

        if ((changes & AttributeChanges.ExtendedAttributes) != 0)
        {
            s[10] = 'x';
        }

        if ((changes & AttributeChanges.FileAttributes) != 0)
        {
            s[10] = 'A';
        }

        return new string(s);
    }
}
