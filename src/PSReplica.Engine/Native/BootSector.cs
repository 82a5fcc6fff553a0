namespace PSReplica.Engine.Native;

/// <summary>The file system a device (or an image file) holds, by the name its boot sector carries at byte 3: for a FUSE
/// mount the kernel names only "fuseblk" (or "fuse"), with nothing in mountinfo's source or super options but the device
/// (exfat-fuse and ntfs-3g pass no subtype).</summary>
internal static class BootSector
{
    private const int NameOffset = 3;

    /// <summary>"exfat" or "ntfs" when <paramref name="source"/> is a block device or a regular file whose boot sector
    /// names one; null for anything else, or when it cannot be read (not root: a disk is root's or the disk group's).</summary>
    public static string? FileSystemOf(string source)
    {
        // A FUSE daemon names its source freely (sshfs: "user@host:path"): only a block device or a regular file is
        // opened, and without blocking, so that a FIFO or a device with side effects on open is never touched.
        if (!source.StartsWith('/') || Posix.Stat(source, follow: true, out StatInfo named) != 0 || named.FileType is not (Posix.SIfblk or Posix.SIfreg))
        {
            return null;
        }

        SafeFileHandle? handle = Posix.Open(source, Posix.ORdOnly | Posix.ONonBlock | Posix.OCloExec, 0, out _);
        if (handle is null)
        {
            return null;
        }

        using (handle)
        {
            Span<byte> name = stackalloc byte[8];
            if (Posix.StatAt(handle, string.Empty, follow: true, out StatInfo opened) != 0 || opened.FileType != named.FileType || opened.Inode != named.Inode)
            {
                return null;
            }

            try
            {
                if (RandomAccess.Read(handle, name, NameOffset) != name.Length)
                {
                    return null;
                }
            }
            catch (IOException)
            {
                return null;
            }

            return name.SequenceEqual("EXFAT   "u8) ? "exfat" : name.SequenceEqual("NTFS    "u8) ? "ntfs" : null;
        }
    }
}
