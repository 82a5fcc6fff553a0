namespace PSReplica.Engine.Endpoints;

/// <summary>A destination that keeps -Backup's backups by moving the old item aside itself (SFTP): a replaced file or link
/// is moved at the last moment, once its successor is complete and just before that is renamed into place, so a failed
/// transfer never loses the old one; a deletion moves the item aside through <see cref="MoveAside"/> instead.</summary>
internal interface IBackupDestination
{
    /// <summary>Moves the file or link at <paramref name="relative"/> to its backup name, replacing an older backup there.</summary>
    void MoveAside(string relative, CancellationToken cancellation);

    /// <summary>Whether backups stay beside their files (no backup directory): a deleted directory may then hold some.</summary>
    bool BacksUpBeside { get; }
}
