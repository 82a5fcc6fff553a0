using PSReplica.Engine.Endpoints;

namespace PSReplica.Ssh;

/// <summary>What the file system behind an SFTP destination can hold, measured (SFTP names no file-system type): a probe
/// file made exclusively under a temporary name in the destination directory, its time set to an odd second and read
/// back (FAT keeps 2 s), renamed and read back again (fusefat stamps the time of the rename), its mode changed and
/// read back, its owner too where the server's user is root, a symbolic link
/// and (where the server offers hardlink@openssh.com) a hard link to it tried, its name looked up in upper case, and all
/// of it removed, and the directory's time set back. Only when the run writes; a probe that cannot be made leaves
/// everything assumed held.</summary>
internal static class SftpFileSystemProbe
{
    /// <summary>An odd second: FAT's 2 s steps round it away. (SFTP version 3 carries whole seconds only.)</summary>
    private const long ProbeSeconds = 1_234_567_891;

    public static FileSystemTraits Measure(SftpSession sftp, string directory)
    {
        string name = Engine.Receiving.PendingFile.TempName("psreplica-probe");
        string path = SftpPaths.Join(directory, name);
        string link = path + "-l";
        string hard = path + "-h";
        string renamed = path + "-r";
        // The probe's files come and go in the directory, which the kernel then stamps with the time: it is set back
        // after (to the whole second SFTP carries), or the next run would find the directory's time changed.
        SftpEntry? directoryBefore = sftp.Stat(directory);
        try
        {
            sftp.CreateExclusive(path).Dispose();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return FileSystemTraits.Full;
        }

        try
        {
            DateTime probeTime = DateTime.UnixEpoch.AddSeconds(ProbeSeconds);
            long granularity = 1;
            long? kept = null;
            if (Try(() => sftp.SetAttributes(path, new SftpAttributeChanges { LastWriteTimeUtc = probeTime, LastAccessTimeUtc = DateTime.UtcNow }))
                && sftp.Stat(path) is { } timed)
            {
                kept = timed.ModifiedSeconds;
                // Within the second SFTP keeps: nothing lost beyond the wire's own step; else FAT's 2 s (or worse).
                granularity = kept == ProbeSeconds ? 1 : FileSystemTraits.GranularityOf(ProbeSeconds * 1_000_000_000, kept.Value * 1_000_000_000);
            }

            bool permissions = Try(() => sftp.SetAttributes(path, new SftpAttributeChanges { Mode = 0x1A0 })) && sftp.Stat(path)?.Mode == 0x1A0
                && Try(() => sftp.SetAttributes(path, new SftpAttributeChanges { Mode = 0x180 })) && sftp.Stat(path)?.Mode == 0x180;
            bool owners = true;
            if (sftp.Stat(path) is { UserId: 0 })
            {
                owners = Try(() => sftp.SetAttributes(path, new SftpAttributeChanges { UserId = 1, GroupId = 1 }))
                    && sftp.Stat(path) is { UserId: 1, GroupId: 1 };
            }

            // Renamed after its time was set, as a receiver's temporary file is: some keep the time of the rename (fusefat).
            // (Modes and owners changed since; the time did not.)
            long? before = kept ?? sftp.Stat(path)?.ModifiedSeconds;
            bool renameKeepsTimes = true;
            if (Try(() => sftp.Rename(path, renamed)))
            {
                renameKeepsTimes = sftp.Stat(renamed)?.ModifiedSeconds == before;
                Try(() => sftp.Rename(renamed, path));
            }

            bool symbolicLinks = Try(() => sftp.CreateSymbolicLink(link, name));
            bool hardLinks = !sftp.OffersHardLinks || Try(() => sftp.CreateHardLink(hard, path));
            string upper = name.ToUpperInvariant();
            bool caseSensitive = upper == name || sftp.Stat(SftpPaths.Join(directory, upper)) is null;
            return FileSystemTraits.Full with
            {
                Type = "measured over SFTP",
                TimeGranularity = granularity,
                Permissions = permissions,
                Owners = owners,
                SymbolicLinks = symbolicLinks,
                HardLinks = hardLinks,
                CaseSensitive = caseSensitive,
                RenameKeepsTimes = renameKeepsTimes,
                Source = "measured",
            };
        }
        finally
        {
            foreach (string probe in new[] { hard, link, renamed, path })
            {
                Try(() => sftp.Delete(probe));
            }

            // Only where it changed: a FAT root holds no time, and fusefat dies when one is set on it.
            if (directoryBefore is not null && sftp.Stat(directory) is { } directoryAfter && directoryAfter.LastWriteTimeUtc != directoryBefore.LastWriteTimeUtc)
            {
                Try(() => sftp.SetAttributes(directory, new SftpAttributeChanges { LastWriteTimeUtc = directoryBefore.LastWriteTimeUtc }));
            }
        }
    }

    private static bool Try(Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
