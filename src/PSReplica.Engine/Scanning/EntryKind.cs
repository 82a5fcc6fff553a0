namespace PSReplica.Engine.Scanning;

internal enum EntryKind
{
    File,
    Directory,
    SymbolicLink,

    /// <summary>Devices, FIFOs and sockets: not replicated.</summary>
    Special,
}
