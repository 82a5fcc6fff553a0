namespace PSReplica.Engine.Endpoints;

/// <summary>A destination that moves a directory within itself in one step, never replacing what holds the new name (and,
/// locally and through the agent, never following a link on the way).</summary>
internal interface IDirectoryMoves
{
    /// <summary>-Watch: repeats a source directory's rename within the destination; 0 when moved, else the errno that kept
    /// it from moving (nothing there, not a directory, the name taken): the sync that follows then copies as it would
    /// have.</summary>
    /// <exception cref="SyncException">UnsafePath for a link on the way to either name, or another failure to reach them.</exception>
    int MoveDirectory(string from, string to, CancellationToken cancellation);
}
