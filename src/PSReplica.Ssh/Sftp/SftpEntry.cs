namespace PSReplica.Ssh;

/// <summary>An item on the server as SFTP describes it (not following symbolic links).</summary>
/// <param name="Name">The last path component.</param>
/// <param name="FullName">The path on the server.</param>
/// <param name="Kind">File, directory, symbolic link or special.</param>
/// <param name="Length">The size in bytes.</param>
/// <param name="LastWriteTimeUtc">The modification time (SFTP v3 carries whole seconds only).</param>
/// <param name="Mode">The permission bits (07777), without the type.</param>
/// <param name="UserId">The owner's uid.</param>
/// <param name="GroupId">The group's gid.</param>
public sealed record SftpEntry(
    string Name,
    string FullName,
    SftpEntryKind Kind,
    long Length,
    DateTime LastWriteTimeUtc,
    int Mode,
    int UserId,
    int GroupId)
{
    /// <summary>The modification time in whole seconds since 1970 (all SFTP version 3 carries).</summary>
    internal long ModifiedSeconds => new DateTimeOffset(DateTime.SpecifyKind(LastWriteTimeUtc, DateTimeKind.Utc)).ToUnixTimeSeconds();
}
