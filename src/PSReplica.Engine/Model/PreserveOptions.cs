namespace PSReplica;

/// <summary>Which attributes are replicated (rsync -t, -p, -o, -g, -l, -H, -A, -X; robocopy /COPY:A).</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
[Flags]
public enum PreserveOptions
{
    None = 0,
    Times = 1,
    Permissions = 2,
    Owner = 4,
    Group = 8,
    Links = 16,

    /// <summary>Files that are hard links of each other in the source are hard links of each other in the destination (rsync -H).</summary>
    HardLinks = 32,

    /// <summary>POSIX ACLs, access and default (rsync -A; implies Permissions).</summary>
    Acls = 64,

    /// <summary>Extended attributes: user.*, and trusted.* and security.* when run as root (rsync -X).</summary>
    ExtendedAttributes = 128,

    /// <summary>Windows' file attributes ReadOnly, Hidden, System and Archive of files and directories (robocopy
    /// /COPY:A): only the portable file-system backend on Windows holds them.</summary>
    Attributes = 256,

    /// <summary>Block and character devices are made at the destination with their device numbers (rsync --devices; creating
    /// them needs root, or CAP_MKNOD, at the destination).</summary>
    Devices = 512,

    /// <summary>FIFOs and sockets are made at the destination (rsync --specials); a FIFO is never opened, a socket is made
    /// unbound.</summary>
    Specials = 1024,
}
