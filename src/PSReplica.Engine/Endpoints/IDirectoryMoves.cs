namespace PSReplica.Engine.Endpoints;

/// <summary>A destination that can move a directory within itself (-Watch repeats a source directory's rename).</summary>
internal interface IDirectoryMoves
{
    /// <summary>-Watch: repeats a source directory's rename within the destination; 0 when moved, else the errno that kept
    /// it from moving (nothing there, not a directory, the name taken, or the side cannot): the sync that follows then
    /// copies as it would have.</summary>
    int MoveDirectory(string from, string to, CancellationToken cancellation);
}
