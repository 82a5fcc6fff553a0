namespace PSReplica.Ssh;

/// <summary>What an SFTP directory entry is.</summary>
public enum SftpEntryKind
{
    File,
    Directory,
    SymbolicLink,

    /// <summary>Devices, FIFOs and sockets.</summary>
    Special,
}
