using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Native;

namespace PSReplica.Ssh;

/// <summary>What the file system behind an SFTP destination can hold, measured (SFTP names no file-system type) by the
/// local destinations' probe (<see cref="FileSystemProbe.Measure(IProbeDirectory, FileSystemTraits)"/>) made over SFTP:
/// times in whole seconds (FAT's 2 s still shows), owners tried where the server's user is root, a hard link only where
/// the server offers hardlink@openssh.com. Only when the run writes; a probe that cannot be made leaves everything
/// assumed held.</summary>
internal static class SftpFileSystemProbe
{
    public static FileSystemTraits Measure(SftpSession sftp, string directory)
    {
        FileSystemTraits assumed = FileSystemTraits.Full with { Type = "measured over SFTP" };
        return FileSystemProbe.Measure(new SftpProbeDirectory(sftp, directory), assumed) ?? FileSystemTraits.Full;
    }

    /// <summary>The probe's calls over SFTP, on paths in <paramref name="directory"/>.</summary>
    private sealed class SftpProbeDirectory(SftpSession sftp, string directory) : IProbeDirectory
    {
        public bool CarriesNanoseconds => false;

        public bool TryCreate(string name) => Try(() => sftp.CreateExclusive(Path(name)).Dispose());

        public long? ModifiedNanoseconds(string name) => Stat(name)?.ModifiedSeconds * FileSystemTraits.Second;

        public bool SetModified(string name, long nanoseconds) => Try(() => sftp.SetAttributes(Path(name), new SftpAttributeChanges
        {
            LastWriteTimeUtc = DateTime.UnixEpoch.AddSeconds(nanoseconds / FileSystemTraits.Second),
            LastAccessTimeUtc = DateTime.UtcNow,
        }));

        public bool Rename(string from, string to) => Try(() => sftp.Rename(Path(from), Path(to)));

        public bool SetMode(string name, int mode) => Try(() => sftp.SetAttributes(Path(name), new SftpAttributeChanges { Mode = mode }));

        public int? Mode(string name) => Stat(name)?.Mode;

        /// <summary>Only a server logged in as root makes files that root owns, and only root may give them away.</summary>
        public bool MayChangeOwners(string name) => Stat(name) is { UserId: 0 };

        public bool SetOwner(string name, uint uid, uint gid) =>
            Try(() => sftp.SetAttributes(Path(name), new SftpAttributeChanges { UserId = (int)uid, GroupId = (int)gid }));

        public (uint Uid, uint Gid)? Owner(string name) => Stat(name) is { } entry ? ((uint)entry.UserId, (uint)entry.GroupId) : null;

        public bool SymbolicLink(string target, string name) => Try(() => sftp.CreateSymbolicLink(Path(name), target));

        public bool HardLink(string existing, string name) => !sftp.OffersHardLinks || Try(() => sftp.CreateHardLink(Path(name), Path(existing)));

        public bool Exists(string name) => Stat(name) is not null;

        public void Remove(string name) => Try(() => sftp.Delete(Path(name)));

        private string Path(string name) => name.Length == 0 ? directory : SftpPaths.Join(directory, name);

        private SftpEntry? Stat(string name)
        {
            try
            {
                return sftp.Stat(Path(name));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
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
}
