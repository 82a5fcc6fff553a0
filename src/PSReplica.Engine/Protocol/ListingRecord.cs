namespace PSReplica.Engine.Protocol;

/// <summary>The records of a listing stream; several may share one data frame.</summary>
internal static class ListingRecord
{
    /// <summary>A directory's entries follow: its path relative to the root.</summary>
    public const byte DirectoryStart = (byte)'D';

    /// <summary>A count, then that many entries, in ascending ordinal order across the directory.</summary>
    public const byte Entries = (byte)'e';

    /// <summary>The current directory is complete.</summary>
    public const byte DirectoryEnd = (byte)'Z';

    /// <summary>A directory could not be read: its path, an ErrorId, a message.</summary>
    public const byte DirectoryError = (byte)'X';
}
