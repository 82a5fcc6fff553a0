using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Native;

namespace PSReplica.Ssh;

/// <summary>-Watch's directory renames over SFTP (<see cref="Engine.Watching.DirectoryMoves"/>): the old name must be a
/// directory (lstat) and the new one free, and the server's rename never replaces a directory's target.</summary>
internal sealed class SftpDirectoryMoves(SftpSession sftp, string root) : IDirectoryMoves
{
    public int MoveDirectory(string from, string to, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        string source = SftpPaths.Join(root, from);
        string target = SftpPaths.Join(root, to);
        SftpEntry? moving = sftp.Stat(source);
        if (moving is null)
        {
            return Posix.ENOENT;
        }

        if (moving.Kind != SftpEntryKind.Directory)
        {
            return Posix.ENOTDIR;
        }

        if (sftp.Stat(target) is not null)
        {
            return Posix.EEXIST;
        }

        sftp.RenameDirectory(source, target);
        return 0;
    }
}
