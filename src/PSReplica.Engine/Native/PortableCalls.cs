using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using static PSReplica.Engine.Native.Posix;

namespace PSReplica.Engine.Native;

/// <summary>The portable backend: <see cref="Posix"/>'s calls on System.IO, for Windows, macOS and any platform .NET runs
/// on (and Linux when PSREPLICA_FILESYSTEM=portable). Only what .NET does not wrap is a platform call, each behind an
/// OperatingSystem guard: a hard link (link(2), CreateHardLinkW) and, on Linux, the type check that keeps a FIFO from
/// being opened for reading.
/// <para>What it cannot do, by design of System.IO: a directory is held by its path, not a descriptor, so a walk
/// checks each component for a link before using it but cannot hold it against a swap made after the check (the Linux
/// backend's *at calls can); owners and groups are neither read nor set; times are kept to 100 ns; an item's identity
/// (inode) is its full path's hash, so hard links in a source are not recognised (-Preserve HardLinks is refused) and
/// the file system an item is on is its path root (-OneFileSystem is refused). System.IO knows files, directories and
/// links only: a FIFO, socket or device states as an empty regular file but on Linux, where the kernel is asked the type
/// of what looks empty (and is refused when opened there, ENXIO, never waited on; on macOS opening a FIFO waits for a
/// writer, a limit the help states), a directory's size is 0, a directory is opened only with O_DIRECTORY or O_PATH (else EISDIR, as for
/// writing), and a directory renamed while held is no longer reached by its handle. Every
/// path System.IO takes is made full by its text, so a ".." after a link leaves the link's directory, not its target
/// (<see cref="RealPath"/> alone walks as the kernel does; the engine's names never hold "..").</para>
/// <para>Otherwise each call answers as Linux's does, errno for errno (tests/PSReplica.Engine.Tests/Execution/
/// PortableBackendTests.cs runs both on the same trees).</para></summary>
internal static partial class PortableCalls
{
    private const long TicksPerSecond = TimeSpan.TicksPerSecond;

    /// <summary>Linux's limit on the links one path resolution follows (MAXSYMLINKS), past which it answers ELOOP.</summary>
    private const int MaxLinks = 40;

    /// <summary>The path each handle this backend gave out was opened by, and whether it holds an open file (a real
    /// handle, good for I/O) or only names an item (a directory, or O_PATH: a number that is no descriptor).</summary>
    private static readonly ConditionalWeakTable<SafeFileHandle, Opened> s_opened = new();

    /// <summary>Path handles get numbers no descriptor has (far above any process's limit), so one passed to a kernel
    /// by mistake fails with EBADF instead of touching another file.</summary>
    private static long s_nextPathHandle = 0x4000_0000;

    /// <summary>An open file is held by its final path; a path handle by the path it was opened by, and when that ends in
    /// a link it was allowed to follow (<see cref="Follows"/>), calls on the handle itself follow it too, while names in
    /// it are still reached through the link (their identities are the paths they were listed by).</summary>
    private sealed record Opened(string Path, bool IsFile, bool Follows);

    public static string PathOf(SafeFileHandle handle) =>
        s_opened.TryGetValue(handle, out Opened? opened) ? opened.Path
            : throw new InvalidOperationException("A handle the portable file-system backend did not open was passed to it.");

    private static bool Follows(SafeFileHandle handle) => s_opened.TryGetValue(handle, out Opened? opened) && opened.Follows;

    /// <summary>The path of <paramref name="name"/> in the directory <paramref name="directory"/> holds ("" and "." are
    /// the directory itself).</summary>
    public static string Combine(SafeFileHandle directory, string name)
    {
        string path = PathOf(directory);
        return name.Length == 0 || name == "." ? path : Path.Join(path, name);
    }

    public static int Stat(string path, bool follow, out StatInfo info)
    {
        info = default;
        try
        {
            FileSystemInfo item = new FileInfo(path);
            FileAttributes attributes = item.Attributes;
            if ((int)attributes == -1)
            {
                return Missing(path);
            }

            if ((attributes & FileAttributes.ReparsePoint) != 0 && item.LinkTarget is { } target)
            {
                if (!follow)
                {
                    info = Describe(path, item, SIflnk | 0x1FF, Encoding.UTF8.GetByteCount(target));
                    return 0;
                }

                int errno = FollowLinks(path, out string final);
                if (errno != 0)
                {
                    return errno;
                }

                // A followed link's identity is its target's path: a directory reached again through a link (a loop
                // under -CopyLinks) is then the directory it names.
                item = new FileInfo(final);
                attributes = item.Attributes;
                path = final;
            }

            if ((attributes & FileAttributes.Directory) != 0)
            {
                item = new DirectoryInfo(item.FullName);
                info = Describe(path, item, SIfdir | Permissions(item, directory: true), 0);
                return 0;
            }

            var file = (FileInfo)item;
            int type = SIfreg;
            ulong rdev = 0;
            if (file.Length == 0 && OperatingSystem.IsLinux() && LinuxCalls.Stat(path, follow: false, out StatInfo special) == 0)
            {
                // A FIFO, socket or device is an empty file to System.IO; on Linux its type (and a device's number) is asked
                // for (only for what looks empty), so that a scan sees it as the Linux backend's does instead of failing
                // to open it.
                type = special.FileType;
                rdev = special.Rdev;
            }

            info = Describe(path, file, type | Permissions(file, directory: false), file.Length) with { Rdev = rdev };
            return 0;
        }
        catch (Exception ex) when (IsIoFailure(ex))
        {
            return Errno(ex);
        }
    }

    /// <summary>Follows <paramref name="path"/> through links to what they name, as the kernel does (at most
    /// <see cref="MaxLinks"/>): 0 with the final path, ENOENT (or ENOTDIR) for a dangling link, ELOOP for a loop.</summary>
    private static int FollowLinks(string path, out string final)
    {
        int budget = MaxLinks;
        return FollowLinks(path, ref budget, out final);
    }

    private static int FollowLinks(string path, ref int budget, out string final)
    {
        final = path;
        while (true)
        {
            var item = new FileInfo(final);
            if ((int)item.Attributes == -1)
            {
                return Missing(final, ref budget);
            }

            if (item.LinkTarget is not { } target)
            {
                return 0;
            }

            if (--budget < 0)
            {
                return ELOOP;
            }

            final = Path.IsPathRooted(target) ? target : Path.Join(Path.GetDirectoryName(item.FullName), target);
        }
    }

    /// <summary>The errno of a path System.IO finds nothing at, as Linux tells it (System.IO reports all three as
    /// absent): ENOTDIR when a component on the way is no directory, ELOOP when one is a link loop, else ENOENT.</summary>
    private static int Missing(string path)
    {
        int budget = MaxLinks;
        return Missing(path, ref budget);
    }

    private static int Missing(string path, ref int budget)
    {
        // The deepest ancestor that is there decides: a directory (through links) lacks the next name; anything else
        // stops the walk.
        for (string? above = Path.GetDirectoryName(Path.GetFullPath(path)); above is not null; above = Path.GetDirectoryName(above))
        {
            var item = new FileInfo(above);
            FileAttributes attributes = item.Attributes;
            if ((int)attributes == -1)
            {
                continue;
            }

            if (item.LinkTarget is not null)
            {
                int errno = FollowLinks(above, ref budget, out string final);
                if (errno != 0)
                {
                    return errno;
                }

                attributes = new FileInfo(final).Attributes;
            }

            return (attributes & FileAttributes.Directory) != 0 ? ENOENT : ENOTDIR;
        }

        return ENOENT;
    }

    /// <summary>stat of what a handle holds: an open file through the handle itself (it may have been renamed since),
    /// anything else by the path it was opened by.</summary>
    public static int StatAt(SafeFileHandle directory, string name, bool follow, out StatInfo info)
    {
        bool itself = name.Length == 0 || name == ".";
        if (!itself || !s_opened.TryGetValue(directory, out Opened? opened) || !opened.IsFile)
        {
            return Stat(Combine(directory, name), follow || (itself && Follows(directory)), out info);
        }

        info = default;
        try
        {
            int permissions = OperatingSystem.IsWindows()
                ? ((File.GetAttributes(directory) & FileAttributes.ReadOnly) != 0 ? 0x124 : 0x1A4)
                : (int)File.GetUnixFileMode(directory);
            (long seconds, uint nanoseconds) = FromUtc(File.GetLastWriteTimeUtc(directory));
            int attributes = FileAttributeStore.Current is { } store ? (int)store.Read(opened.Path, File.GetAttributes(directory)) : 0;
            info = new StatInfo(SIfreg | permissions, 1, 0, 0, Identity(opened.Path), RandomAccess.GetLength(directory), seconds, nanoseconds, Device(opened.Path),
                attributes);
            return 0;
        }
        catch (Exception ex) when (IsIoFailure(ex))
        {
            return Errno(ex);
        }
    }

    private static int Permissions(FileSystemInfo item, bool directory) =>
        OperatingSystem.IsWindows()
            ? directory ? 0x1ED : (item.Attributes & FileAttributes.ReadOnly) != 0 ? 0x124 : 0x1A4
            : (int)item.UnixFileMode;

    /// <summary>The stat of <paramref name="item"/>, found at <paramref name="path"/> (a link's target when it was
    /// followed): its identity is the path asked for, the one a handle opened by that path reports too. Windows'
    /// attributes are told where the platform holds them (<see cref="FileAttributeStore"/>).</summary>
    private static StatInfo Describe(string path, FileSystemInfo item, int mode, long size)
    {
        (long seconds, uint nanoseconds) = FromUtc(item.LastWriteTimeUtc);
        int attributes = FileAttributeStore.Current is { } store ? (int)store.Read(path, item.Attributes) : 0;
        return new StatInfo(mode, 1, 0, 0, Identity(path), size, seconds, nanoseconds, Device(path), attributes);
    }

    /// <summary>An item's stand-in for an inode number: its full path's hash, the same for every look at one path.</summary>
    private static ulong Identity(string path) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(Path.GetFullPath(path).AsSpan()));

    /// <summary>The stand-in for a device number: the path's root (a drive, a share, or "/").</summary>
    private static ulong Device(string path) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes((Path.GetPathRoot(Path.GetFullPath(path)) ?? "/").AsSpan())) | 1;

    private static (long Seconds, uint Nanoseconds) FromUtc(DateTime utc)
    {
        long ticks = utc.Ticks - DateTime.UnixEpoch.Ticks;
        long seconds = Math.DivRem(ticks, TicksPerSecond, out long rest);
        if (rest < 0)
        {
            seconds--;
            rest += TicksPerSecond;
        }

        return (seconds, (uint)(rest * 100));
    }

    private static DateTime ToUtc(long seconds, long nanoseconds) =>
        new(DateTime.UnixEpoch.Ticks + (seconds * TicksPerSecond) + (nanoseconds / 100), DateTimeKind.Utc);

    public static SafeFileHandle? Open(string path, int flags, int mode, out int errno)
    {
        bool directory = (flags & ODirectory) != 0;
        bool pathOnly = (flags & OPath) != 0;
        bool noFollow = (flags & ONoFollow) != 0;
        bool create = (flags & OCreat) != 0;
        int access = flags & 3;
        errno = Stat(path, follow: !noFollow, out StatInfo existing);
        if (directory || pathOnly)
        {
            if (errno != 0)
            {
                return null;
            }

            if (directory && existing.FileType != SIfdir)
            {
                // Also for a link under O_NOFOLLOW: Linux checks O_DIRECTORY first.
                errno = ENOTDIR;
                return null;
            }

            var handle = new SafeFileHandle((nint)Interlocked.Increment(ref s_nextPathHandle), ownsHandle: false);
            s_opened.Add(handle, new Opened(path, IsFile: false, Follows: !noFollow));
            return handle;
        }

        if (errno == 0)
        {
            if (create && (flags & OExcl) != 0)
            {
                errno = EEXIST;
                return null;
            }

            if (existing.FileType == SIflnk)
            {
                errno = ELOOP;
                return null;
            }

            if (existing.FileType == SIfdir)
            {
                // Also for reading, where Linux gives a descriptor (that fails to read, EISDIR): a path handle here
                // would fail a read with NotSupportedException, which no caller expects.
                errno = EISDIR;
                return null;
            }

            // (Stat asked Linux for the type of what looked empty: no second statx per file opened.)
            if (existing.FileType != SIfreg)
            {
                // A FIFO, socket or device looks like a file to System.IO, and opening a FIFO would wait for a writer.
                errno = ENXIO;
                return null;
            }

            if (access != ORdOnly && FileAttributeStore.Current is { } store && (errno = store.MayChange(path)) != 0)
            {
                // A ReadOnly file is not opened for writing (as a mode without write access is not on Linux).
                return null;
            }
        }
        else if (errno != ENOENT || !create)
        {
            return null;
        }

        var options = new FileStreamOptions
        {
            Mode = create ? (flags & OExcl) != 0 ? FileMode.CreateNew : FileMode.OpenOrCreate : FileMode.Open,
            Access = access == ORdWr ? FileAccess.ReadWrite : access == OWrOnly ? FileAccess.Write : FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows() && create)
        {
            options.UnixCreateMode = (UnixFileMode)(mode & 0x1FF);
        }

        try
        {
            // Through a FileStream only for UnixCreateMode (File.OpenHandle has none): the handle is the caller's from
            // here, and the stream, unbuffered, has nothing of its own to flush or free.
            SafeFileHandle file = new FileStream(path, options).SafeFileHandle;
            s_opened.Add(file, new Opened(noFollow ? path : Resolved(path), IsFile: true, Follows: false));
            errno = 0;
            return file;
        }
        catch (Exception ex) when (IsIoFailure(ex))
        {
            errno = Failure(path, ex);
            return null;
        }
    }

    /// <summary>The final target's path when <paramref name="path"/> is a link, else the path.</summary>
    private static string Resolved(string path) => FollowLinks(path, out string final) == 0 ? final : path;

    public static int Chmod(string path, int mode)
    {
        if (OperatingSystem.IsWindows())
        {
            return EOPNOTSUPP;
        }

        try
        {
            File.SetUnixFileMode(path, (UnixFileMode)(mode & 0xFFF));
            return 0;
        }
        catch (Exception ex) when (IsIoFailure(ex))
        {
            return Failure(path, ex);
        }
    }

    public static int Chmod(SafeFileHandle handle, int mode)
    {
        if (OperatingSystem.IsWindows())
        {
            return EOPNOTSUPP;
        }

        if (s_opened.TryGetValue(handle, out Opened? opened) && !opened.IsFile)
        {
            // A path handle on a link it did not follow holds the link itself (O_PATH|O_NOFOLLOW): Linux has no mode to
            // set on a link, where chmod by the path would change its target.
            return !opened.Follows && Stat(opened.Path, follow: false, out StatInfo item) == 0 && item.FileType == SIflnk
                ? EOPNOTSUPP : Chmod(opened.Path, mode);
        }

        try
        {
            File.SetUnixFileMode(handle, (UnixFileMode)(mode & 0xFFF));
            return 0;
        }
        catch (Exception ex) when (IsIoFailure(ex))
        {
            return Errno(ex);
        }
    }

    /// <summary>Sets a modification time to the 100 ns .NET keeps; a final link's own time (System.IO does not follow
    /// it).</summary>
    public static int SetModificationTime(string path, long seconds, long nanoseconds) =>
        Try(path, () => File.SetLastWriteTimeUtc(path, ToUtc(seconds, nanoseconds)));

    public static int SetModificationTime(SafeFileHandle handle, long seconds, long nanoseconds) =>
        s_opened.TryGetValue(handle, out Opened? opened) && !opened.IsFile
            ? SetModificationTime(opened.Follows ? Resolved(opened.Path) : opened.Path, seconds, nanoseconds)
            : Try(null, () => File.SetLastWriteTimeUtc(handle, ToUtc(seconds, nanoseconds)));

    /// <summary>A rename that never replaces: EEXIST when anything holds the new name (checked, then moved: the portable
    /// backend has no atomic form; a name taken in between fails the move in System.IO).</summary>
    public static int RenameNoReplace(string oldPath, string newPath)
    {
        int existing = Stat(newPath, follow: false, out _);
        return existing == 0 ? EEXIST : existing != ENOENT ? existing : Rename(oldPath, newPath);
    }

    /// <summary>rename(2)'s meaning: a file or link replaces a file or link of the new name; a directory takes the place
    /// of an empty one.</summary>
    public static int Rename(string oldPath, string newPath)
    {
        int errno = Stat(oldPath, follow: false, out StatInfo moving);
        if (errno != 0)
        {
            return errno;
        }

        int existing = Stat(newPath, follow: false, out StatInfo replaced);
        if (existing is not 0 and not ENOENT)
        {
            // The new name's directory cannot be reached (ENOTDIR, ELOOP): System.IO would say only that it failed.
            return existing;
        }

        if (moving.FileType == SIfdir)
        {
            if (existing == 0)
            {
                if (replaced.FileType != SIfdir)
                {
                    return ENOTDIR;
                }

                if (string.Equals(Path.GetFullPath(oldPath), Path.GetFullPath(newPath), StringComparison.Ordinal))
                {
                    return 0;
                }

                int removed = Unlink(newPath, isDirectory: true);
                if (removed != 0)
                {
                    return removed;
                }
            }

            return Moved(oldPath, newPath, Try(newPath, () => Directory.Move(oldPath, newPath)));
        }

        if (existing == 0 && replaced.FileType == SIfdir)
        {
            return EISDIR;
        }

        if (moving.FileType == SIflnk && Directory.Exists(oldPath))
        {
            // File.Move follows a final link to see that it names a file; a link to a directory moves as a directory,
            // which Directory.Move renames itself, never its target, but only to a free name.
            if (existing == 0)
            {
                int removed = Unlink(newPath, isDirectory: false);
                if (removed != 0)
                {
                    return removed;
                }
            }

            return Moved(oldPath, newPath, Try(newPath, () => Directory.Move(oldPath, newPath)));
        }

        return Moved(oldPath, newPath, existing == 0
            ? Changing(newPath, replaced, () => Try(newPath, () => File.Move(oldPath, newPath, overwrite: true)))
            : Try(newPath, () => File.Move(oldPath, newPath, overwrite: true)));
    }

    /// <summary>Tells the attribute store that a rename succeeded (its attributes move with the item); returns
    /// <paramref name="errno"/>.</summary>
    private static int Moved(string oldPath, string newPath, int errno)
    {
        if (errno == 0)
        {
            FileAttributeStore.Current?.Moved(oldPath, newPath);
        }

        return errno;
    }

    /// <summary>Replaces or removes <paramref name="item"/> at <paramref name="path"/> by <paramref name="change"/> as
    /// rename(2) and unlink(2) do, whatever the item's own permissions: Windows refuses a ReadOnly item, so its ReadOnly
    /// attribute is cleared first (as robocopy does) and put back when the change fails.</summary>
    private static int Changing(string path, in StatInfo item, Func<int> change)
    {
        if (FileAttributeStore.Current is not { } store)
        {
            return change();
        }

        var attributes = (FileAttributes)item.Attributes;
        bool readOnly = (attributes & FileAttributes.ReadOnly) != 0;
        int errno = readOnly ? store.Write(path, attributes & ~FileAttributes.ReadOnly) : 0;
        if (errno == 0)
        {
            errno = store.MayChange(path);
        }

        if (errno == 0)
        {
            errno = change();
        }

        if (errno != 0 && readOnly)
        {
            _ = store.Write(path, attributes);
        }

        return errno;
    }

    public static int Unlink(string path, bool isDirectory)
    {
        int errno = Stat(path, follow: false, out StatInfo item);
        if (errno != 0)
        {
            return errno;
        }

        if (isDirectory ? item.FileType != SIfdir : item.FileType == SIfdir)
        {
            return isDirectory ? ENOTDIR : EISDIR;
        }

        errno = Changing(path, item, () => isDirectory ? Try(path, () => Directory.Delete(path, recursive: false)) : Try(path, () => File.Delete(path)));
        if (errno == 0)
        {
            FileAttributeStore.Current?.Removed(path);
        }

        return errno;
    }

    /// <summary>Makes Windows' kept attributes of the item at <paramref name="path"/> exactly <paramref name="attributes"/>
    /// (<see cref="FileAttributeStore"/>); EOPNOTSUPP where the platform has none.</summary>
    public static int SetFileAttributes(string path, int attributes) =>
        FileAttributeStore.Current is { } store ? store.Write(path, (FileAttributes)attributes & FileAttributeStore.Kept) : EOPNOTSUPP;

    /// <summary>As <see cref="SetFileAttributes(string, int)"/>, for what a handle holds (by the path it was opened by,
    /// or its target's when it follows a link).</summary>
    public static int SetFileAttributes(SafeFileHandle handle, int attributes) =>
        SetFileAttributes(s_opened.TryGetValue(handle, out Opened? opened) && opened.Follows ? Resolved(opened.Path) : PathOf(handle), attributes);

    public static int Mkdir(string path, int mode)
    {
        if (Stat(path, follow: false, out _) == 0)
        {
            return EEXIST;
        }

        string? parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(path));
        if (parent is not null && parent.Length != 0)
        {
            int errno = Stat(parent, follow: true, out StatInfo above);
            if (errno != 0 || above.FileType != SIfdir)
            {
                return errno != 0 ? errno : ENOTDIR;
            }
        }

        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(path);
            }
            else
            {
                // The permission bits and the sticky bit, as Linux's mkdir keeps them.
                Directory.CreateDirectory(path, (UnixFileMode)(mode & 0x3FF));
            }

            return 0;
        }
        catch (Exception ex) when (IsIoFailure(ex))
        {
            return Errno(ex);
        }
    }

    public static int Symlink(string target, string path)
    {
        int errno = Stat(path, follow: false, out _);
        if (errno != ENOENT)
        {
            return errno == 0 ? EEXIST : errno;
        }

        if (OperatingSystem.IsWindows() && Directory.Exists(Path.Combine(Path.GetDirectoryName(path) ?? ".", target)))
        {
            return Try(path, () => Directory.CreateSymbolicLink(path, target));
        }

        return Try(path, () => File.CreateSymbolicLink(path, target));
    }

    public static string? ReadLink(string path, out int errno)
    {
        try
        {
            var item = new FileInfo(path);
            if ((int)item.Attributes == -1)
            {
                errno = Missing(path);
                return null;
            }

            string? target = item.LinkTarget;
            errno = target is null ? EINVAL : 0;
            return target;
        }
        catch (Exception ex) when (IsIoFailure(ex))
        {
            errno = Errno(ex);
            return null;
        }
    }

    /// <summary>The canonical path: full, with every link on the way resolved (ELOOP after 40, as Linux), each ".."
    /// leaving what the path has reached so far, as the kernel walks it (on Windows, which takes ".." from the text
    /// before it meets any link, the path is made full first).</summary>
    public static string? RealPath(string path, out int errno)
    {
        try
        {
            string full = OperatingSystem.IsWindows() ? Path.GetFullPath(path)
                : Path.IsPathRooted(path) ? path : Path.Join(Environment.CurrentDirectory, path);
            string root = Path.GetPathRoot(full) ?? string.Empty;
            string resolved = root;
            var pending = new Stack<string>();
            PushComponents(pending, full[root.Length..]);
            int links = 0;
            while (pending.TryPop(out string? component))
            {
                if (component.Length == 0 || component == ".")
                {
                    continue;
                }

                if (component == "..")
                {
                    resolved = Path.GetDirectoryName(resolved) ?? root;
                    continue;
                }

                string next = Path.Join(resolved, component);
                var item = new FileInfo(next);
                FileAttributes attributes = item.Attributes;
                if ((int)attributes == -1)
                {
                    errno = Missing(next);
                    return null;
                }

                if (item.LinkTarget is { } target)
                {
                    if (++links > MaxLinks)
                    {
                        errno = ELOOP;
                        return null;
                    }

                    // The walk goes on from the link's directory (or a root) through the target, then what followed.
                    PushComponents(pending, target);
                    if (Path.IsPathRooted(target))
                    {
                        resolved = Path.GetPathRoot(target) ?? root;
                    }

                    continue;
                }

                if ((attributes & FileAttributes.Directory) == 0 && pending.Count != 0)
                {
                    errno = ENOTDIR;
                    return null;
                }

                resolved = next;
            }

            errno = 0;
            return resolved;
        }
        catch (Exception ex) when (IsIoFailure(ex) || ex is ArgumentException)
        {
            errno = ex is ArgumentException ? EINVAL : Errno(ex);
            return null;
        }
    }

    /// <summary>Pushes the components of <paramref name="path"/> so that the first is on top.</summary>
    private static void PushComponents(Stack<string> pending, string path)
    {
        string[] components = path.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        for (int i = components.Length - 1; i >= 0; i--)
        {
            pending.Push(components[i]);
        }
    }

    /// <summary>A hard link: link(2) on Unix, CreateHardLinkW on Windows (.NET wraps neither).</summary>
    public static int Link(string existingPath, string newPath)
    {
        if (Stat(newPath, follow: false, out _) == 0)
        {
            return EEXIST;
        }

        if (OperatingSystem.IsWindows())
        {
            return CreateHardLink(newPath, existingPath, 0) ? 0 : FromWin32(Marshal.GetLastPInvokeError());
        }

        if (OperatingSystem.IsLinux())
        {
            return LinuxCalls.Link(existingPath, newPath);
        }

        if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            return UnixLink(existingPath, newPath) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }

        return ENOSYS;
    }

    [LibraryImport("kernel32.dll", EntryPoint = "CreateHardLinkW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CreateHardLink(string fileName, string existingFileName, nint securityAttributes);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnixLink(string existingPath, string newPath);

    /// <summary>Runs a System.IO call on <paramref name="path"/> (null: on a handle): 0 or its <see cref="Failure"/>.</summary>
    private static int Try(string? path, Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (Exception ex) when (IsIoFailure(ex))
        {
            return path is null ? Errno(ex) : Failure(path, ex);
        }
    }

    /// <summary>The errno of a System.IO call on <paramref name="path"/> that failed, told apart as Linux does where
    /// System.IO reports any path that leads nowhere as absent.</summary>
    private static int Failure(string path, Exception ex)
    {
        int errno = Errno(ex);
        return errno == ENOENT ? Missing(path) : errno;
    }

    private static bool IsIoFailure(Exception ex) => ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentOutOfRangeException;

    /// <summary>The errno (Linux's numbers) of a System.IO failure: on Unix .NET keeps the errno as an IOException's
    /// HResult; on Windows the Win32 error is in its low word.</summary>
    internal static int Errno(Exception ex) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => ENOENT,
        PathTooLongException => ENAMETOOLONG,
        UnauthorizedAccessException => EACCES,
        ArgumentOutOfRangeException => EINVAL,
        NotSupportedException => EOPNOTSUPP,
        IOException io when OperatingSystem.IsWindows() => FromWin32(io.HResult & 0xFFFF),
        IOException io when io.HResult is > 0 and < 200 => io.HResult,
        _ => EIO,
    };

    private static int FromWin32(int error) => error switch
    {
        2 or 3 => ENOENT,           // ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND
        5 => EACCES,                // ERROR_ACCESS_DENIED
        17 => EXDEV,                // ERROR_NOT_SAME_DEVICE
        19 => EROFS,                // ERROR_WRITE_PROTECT
        32 or 33 => EBUSY,          // ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION
        39 or 112 => ENOSPC,        // ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL
        80 or 183 => EEXIST,        // ERROR_FILE_EXISTS, ERROR_ALREADY_EXISTS
        123 or 161 => EINVAL,       // ERROR_INVALID_NAME, ERROR_BAD_PATHNAME
        145 => ENOTEMPTY,           // ERROR_DIR_NOT_EMPTY
        206 => ENAMETOOLONG,        // ERROR_FILENAME_EXCED_RANGE
        1142 => EMLINK,             // ERROR_TOO_MANY_LINKS
        1314 => EPERM,              // ERROR_PRIVILEGE_NOT_HELD (symbolic links without the privilege)
        _ => EIO,
    };

    /// <summary>An errno's text where the C library's is not at hand (Windows).</summary>
    public static string Describe(int errno) => errno switch
    {
        ENOENT => "No such file or directory",
        EPERM => "Operation not permitted",
        EACCES => "Permission denied",
        EEXIST => "File exists",
        EXDEV => "Invalid cross-device link",
        ENOTDIR => "Not a directory",
        EISDIR => "Is a directory",
        EINVAL => "Invalid argument",
        ENOSPC => "No space left on device",
        EROFS => "Read-only file system",
        ENAMETOOLONG => "File name too long",
        ENOSYS => "Function not implemented",
        ENOTEMPTY => "Directory not empty",
        ELOOP => "Too many levels of symbolic links",
        EMLINK => "Too many links",
        EOPNOTSUPP => "Operation not supported",
        EBUSY => "Device or resource busy",
        ENXIO => "No such device or address",
        _ => "I/O error " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
