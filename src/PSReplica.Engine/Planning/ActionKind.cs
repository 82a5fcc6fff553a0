namespace PSReplica.Engine.Planning;

internal enum ActionKind
{
    CreateRoot,
    CreateDirectory,
    CopyFile,
    CreateSymbolicLink,
    Metadata,
    Delete,
}
