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

    /// <summary>Version 2, with a filter: a per-directory filter file the agent's walk read, before the directory it
    /// applies to: its path relative to the root, then 1 and its text, or 0 when there is no such file.</summary>
    public const byte FilterFile = (byte)'F';

    /// <summary>With <see cref="ListingFeatures.ExtendedAttributes"/>, first in the stream: the extended attributes of the
    /// directory the listing starts at (its own entry is not in the listing): 0 (unreadable), or 1 and the set.</summary>
    public const byte StartAttributes = (byte)'A';
}
