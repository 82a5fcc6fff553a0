namespace PSReplica;

public enum SyncPhase
{
    Scanning,
    Transferring,
    Completed,
}
