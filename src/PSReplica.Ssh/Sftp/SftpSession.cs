using System.Globalization;
using Renci.SshNet;
using Renci.SshNet.Common;
using Renci.SshNet.Sftp;

namespace PSReplica.Ssh;

/// <summary>
/// File operations on the server over SFTP, for the fallback transport. Missing paths raise
/// <see cref="FileNotFoundException"/>, refusals <see cref="UnauthorizedAccessException"/>, other server errors
/// <see cref="IOException"/>, as local file I/O would; a broken connection raises SyncException SshConnectionFailed.
/// </summary>
/// <remarks>
/// Stat, List, Delete, DeleteDirectory, Mkdir, Rename and SetAttributes act on the path itself: a symbolic link is
/// described, removed or renamed as a link, never its target. Relative paths are taken from the login directory
/// textually. Opening a file cannot avoid following links (SFTP has no O_NOFOLLOW): write to a fresh name with
/// <see cref="CreateExclusive"/> in a directory checked with <see cref="Stat"/>, then <see cref="Rename"/>.
/// </remarks>
public sealed class SftpSession : IDisposable
{
    private readonly SftpClient _client;
    private readonly SftpRawRequests _raw;
    private readonly string _description;
    private bool _disposed;
    private bool _posixRename = true;

    internal SftpSession(SftpClient client, string description)
    {
        _client = client;
        _raw = new SftpRawRequests(client);
        _description = description;
    }

    /// <summary>The directory relative paths start from (the login directory).</summary>
    public string WorkingDirectory => Call(string.Empty, () => _client.WorkingDirectory);

    /// <summary>Describes a path without following a final symbolic link; null when it does not exist.</summary>
    public SftpEntry? Stat(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            SftpFileAttributes attributes = Call(path, () => _raw.LStat(Absolute(path)));
            return ToEntry(NameOf(path), path, attributes);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The entries of a directory, without <c>.</c> and <c>..</c>.</summary>
    public IReadOnlyList<SftpEntry> List(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Call(path, () =>
        {
            // Listing resolves the directory with realpath; a link in its place would list somewhere else.
            if (_raw.LStat(Absolute(path)).IsSymbolicLink)
            {
                throw new IOException($"{_description}: '{path}' is a symbolic link, not a directory.");
            }

            var entries = new List<SftpEntry>();
            foreach (ISftpFile file in _client.ListDirectory(path))
            {
                if (file.Name is "." or "..")
                {
                    continue;
                }

                entries.Add(ToEntry(file.Name, file.FullName, file.Attributes));
            }

            return entries;
        });
    }

    public Stream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Call(path, () => (Stream)_client.OpenRead(path));
    }

    /// <summary>Creates the file, or truncates it, for writing.</summary>
    public Stream Create(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Call(path, () => (Stream)_client.Open(path, FileMode.Create, FileAccess.Write));
    }

    /// <summary>Creates the file for writing and fails if it exists (for temporary names).</summary>
    public Stream CreateExclusive(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Call(path, () => (Stream)_client.Open(path, FileMode.CreateNew, FileAccess.Write));
    }

    /// <summary>Opens an existing file for writing without truncating it.</summary>
    public Stream OpenWrite(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Call(path, () => (Stream)_client.Open(path, FileMode.Open, FileAccess.Write));
    }

    /// <summary>Renames, replacing an existing target: atomically where the server offers posix-rename@openssh.com
    /// (OpenSSH does), else by removing the target first (SSH_FXP_RENAME refuses an existing target), which leaves a
    /// moment without it.</summary>
    public void Rename(string from, string to)
    {
        ArgumentException.ThrowIfNullOrEmpty(from);
        ArgumentException.ThrowIfNullOrEmpty(to);
        Call(from, () =>
        {
            string source = Absolute(from);
            string target = Absolute(to);
            if (Volatile.Read(ref _posixRename))
            {
                try
                {
                    _raw.PosixRename(source, target);
                    return true;
                }
                catch (NotSupportedException)
                {
                    // SSH.NET checks the server's extension list before sending.
                    Volatile.Write(ref _posixRename, false);
                }
            }

            try
            {
                _raw.Remove(target);
            }
            catch (SftpPathNotFoundException)
            {
                // Nothing to replace.
            }

            _raw.Rename(source, target);
            return true;
        });
    }

    /// <summary>Renames a directory only while nothing holds the new name (SSH_FXP_RENAME: OpenSSH's server renames what is
    /// not a regular file only after it found the new name free).</summary>
    public void RenameDirectory(string from, string to)
    {
        ArgumentException.ThrowIfNullOrEmpty(from);
        ArgumentException.ThrowIfNullOrEmpty(to);
        Call(from, () =>
        {
            _raw.Rename(Absolute(from), Absolute(to));
            return true;
        });
    }

    /// <summary>Whether renames replace their target in one step (the server offers posix-rename@openssh.com); known
    /// after the first <see cref="Rename"/>.</summary>
    public bool AtomicRename => Volatile.Read(ref _posixRename);

    /// <summary>Whether the server makes hard links (hardlink@openssh.com, which OpenSSH offers).</summary>
    public bool OffersHardLinks => _raw.CanHardLink;

    /// <summary>Creates <paramref name="path"/> (which must not exist) as a hard link to the file <paramref name="existing"/>.</summary>
    public void CreateHardLink(string path, string existing)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(existing);
        Call(path, () =>
        {
            _raw.HardLink(Absolute(existing), Absolute(path));
            return true;
        });
    }

    /// <summary>Creates the symbolic link <paramref name="path"/> holding <paramref name="target"/> as given.</summary>
    public void CreateSymbolicLink(string path, string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(target);
        Call(path, () =>
        {
            _raw.SymLink(target, Absolute(path));
            return true;
        });
    }

    /// <summary>The target a symbolic link holds, as stored (not resolved).</summary>
    public string ReadLink(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Call(path, () => _raw.ReadLink(Absolute(path)));
    }

    /// <summary>The canonical absolute path of an existing item, symbolic links followed (the server's realpath).</summary>
    public string ResolvePath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Call(path, () => _raw.RealPath(Absolute(path)));
    }

    /// <summary>Deletes a file or symbolic link.</summary>
    public void Delete(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Call(path, () =>
        {
            _raw.Remove(Absolute(path));
            return true;
        });
    }

    /// <summary>Deletes an empty directory.</summary>
    public void DeleteDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Call(path, () =>
        {
            _raw.RemoveDirectory(Absolute(path));
            return true;
        });
    }

    public void Mkdir(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Call(path, () =>
        {
            _raw.MakeDirectory(Absolute(path));
            return true;
        });
    }

    /// <summary>Sets times, permissions and ownership (whatever is not null).</summary>
    public void SetAttributes(string path, SftpAttributeChanges changes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(changes);
        Call(path, () =>
        {
            string absolute = Absolute(path);
            SftpFileAttributes attributes = _raw.LStat(absolute);
            if (attributes.IsSymbolicLink)
            {
                // The server's setstat follows links: it would change the target.
                throw new IOException($"{_description}: '{path}' is a symbolic link; SFTP cannot set a link's own attributes.");
            }

            if (changes.LastWriteTimeUtc is DateTime write)
            {
                attributes.LastWriteTimeUtc = write;
            }

            if (changes.LastAccessTimeUtc is DateTime access)
            {
                attributes.LastAccessTimeUtc = access;
            }
            else if (changes.LastWriteTimeUtc is not null)
            {
                // SFTP v3 sets both times at once; keep the access time as it was.
                attributes.LastAccessTimeUtc = attributes.LastAccessTimeUtc;
            }

            if (changes.Mode is int mode)
            {
                // SSH.NET takes the mode as the decimal digits of its octal form (755).
                attributes.SetPermissions(short.Parse(Convert.ToString(mode & 0x1FF, 8), NumberStyles.None, CultureInfo.InvariantCulture));
                attributes.IsUIDBitSet = (mode & 0x800) != 0;
                attributes.IsGroupIDBitSet = (mode & 0x400) != 0;
                attributes.IsStickyBitSet = (mode & 0x200) != 0;
            }

            if (changes.UserId is int uid)
            {
                attributes.UserId = uid;
            }

            if (changes.GroupId is int gid)
            {
                attributes.GroupId = gid;
            }

            _raw.SetStat(absolute, attributes);
            return true;
        });
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _client.Disconnect();
        }
        catch (Exception ex) when (SshFailure.Translate(ex, _description) is not null)
        {
            // Already broken.
        }

        _client.Dispose();
    }

    private string Absolute(string path) => path.StartsWith('/') ? path : _client.WorkingDirectory.TrimEnd('/') + "/" + path;

    private static string NameOf(string path)
    {
        string trimmed = path.TrimEnd('/');
        int slash = trimmed.LastIndexOf('/');
        return slash < 0 ? trimmed : trimmed[(slash + 1)..];
    }

    private static SftpEntry ToEntry(string name, string fullName, SftpFileAttributes a)
    {
        SftpEntryKind kind = a.IsSymbolicLink ? SftpEntryKind.SymbolicLink
            : a.IsDirectory ? SftpEntryKind.Directory
            : a.IsRegularFile ? SftpEntryKind.File
            : SftpEntryKind.Special;
        int mode = (a.OwnerCanRead ? 0x100 : 0) | (a.OwnerCanWrite ? 0x80 : 0) | (a.OwnerCanExecute ? 0x40 : 0)
            | (a.GroupCanRead ? 0x20 : 0) | (a.GroupCanWrite ? 0x10 : 0) | (a.GroupCanExecute ? 0x8 : 0)
            | (a.OthersCanRead ? 0x4 : 0) | (a.OthersCanWrite ? 0x2 : 0) | (a.OthersCanExecute ? 0x1 : 0)
            | (a.IsUIDBitSet ? 0x800 : 0) | (a.IsGroupIDBitSet ? 0x400 : 0) | (a.IsStickyBitSet ? 0x200 : 0);
        return new SftpEntry(name, fullName, kind, a.Size, a.LastWriteTimeUtc, mode, a.UserId, a.GroupId);
    }

    private T Call<T>(string path, Func<T> operation)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            return operation();
        }
        catch (SftpPathNotFoundException ex)
        {
            throw new FileNotFoundException($"{_description}: '{path}' does not exist.", path, ex);
        }
        catch (SftpPermissionDeniedException ex)
        {
            throw new UnauthorizedAccessException($"{_description}: permission denied for '{path}'.", ex);
        }
        catch (SftpException ex)
        {
            throw new IOException($"{_description}: '{path}': {ex.Message}", ex);
        }
        catch (Exception ex) when (SshFailure.Translate(ex, _description) is SyncException translated)
        {
            throw translated;
        }
    }
}
