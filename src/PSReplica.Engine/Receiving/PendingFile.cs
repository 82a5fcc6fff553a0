using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Receiving;

/// <summary>A file's new content on its way into the destination, the one way every wiring writes a file: created
/// exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) under a temp name in its target's directory, reached by a
/// <see cref="SafeTree"/> walk that follows no link; written or patched through <see cref="Handle"/>; given its
/// attributes through that descriptor; then renamed over the target within the same directory descriptor, kept under
/// its name (a partial file, or a file waiting for -DelayUpdates), or, when disposed unfinished, removed.</summary>
internal sealed class PendingFile : IDisposable
{
    private ParentDirectory _directory;
    private bool _settled;
    private (long Seconds, uint Nanoseconds)? _time;
    private int? _fileAttributes;

    private PendingFile(ParentDirectory directory, string name, string relative, SafeFileHandle handle)
    {
        _directory = directory;
        Name = name;
        Relative = relative;
        Handle = handle;
    }

    /// <summary>The name it is written under, in the directory of <see cref="Relative"/> (or of a partial directory).</summary>
    public string Name { get; }

    /// <summary>The target's path relative to the tree's root.</summary>
    public string Relative { get; }

    /// <summary>The open file, for writing.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>The directory that holds it.</summary>
    public SafeFileHandle Directory => _directory.Handle;

    /// <summary>A new file under a fresh temp name beside <paramref name="relative"/>.</summary>
    public static PendingFile Beside(SafeTree tree, string relative)
    {
        ParentDirectory parent = tree.OpenParent(relative);
        try
        {
            return In(parent, TempName(parent.Name), relative);
        }
        catch
        {
            parent.Dispose();
            throw;
        }
    }

    /// <summary>A new file under a fresh temp name beside its target in <paramref name="parent"/>, which stays the
    /// caller's (the pending file borrows the descriptor).</summary>
    public static PendingFile Beside(ParentDirectory parent, string relative) =>
        In(new ParentDirectory(parent.Handle, parent.Name, owned: false), TempName(parent.Name), relative);

    /// <summary>The name a new item takes beside <paramref name="targetName"/> until it is complete: the one place the
    /// receiver names its temp files, links and backups-in-progress (the planner recognises them by
    /// <see cref="TempFileNames.IsTemporary"/> as leftovers of an interrupted run).</summary>
    public static string TempName(string targetName) => TempFileNames.For(targetName);

    /// <summary>A new file named <paramref name="name"/> in <paramref name="directory"/>, which the pending file then owns.</summary>
    public static PendingFile In(ParentDirectory directory, string name, string relative)
    {
        SafeFileHandle? handle = Posix.OpenAt(directory.Handle, name, Posix.ORdWr | Posix.OCreat | Posix.OExcl | Posix.ONoFollow, 0x180, out int errno);
        return handle is null
            ? throw SafeTree.Failure(errno, ErrorIds.FileWriteError, "Cannot write", relative)
            : new PendingFile(directory, name, relative, handle);
    }

    /// <summary>Owner, mode and time, through the open descriptor (chown clears set-user-ID bits: the mode comes after).</summary>
    public void SetAttributes(AttributeSet attributes)
    {
        Apply(Handle, attributes, Relative);
        _time = attributes.Has(AttributeFields.Time) ? (attributes.MtimeSeconds, attributes.MtimeNanoseconds) : null;
        _fileAttributes = attributes.Has(AttributeFields.FileAttributes) ? attributes.FileAttributes : null;
    }

    /// <summary>Renames the file over its target, in the same directory.</summary>
    public void Commit(ParentDirectory target)
    {
        int errno = Posix.RenameAt(_directory.Handle, Name, target.Handle, target.Name);
        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.FileWriteError, "Cannot move into place", Relative);
        }

        _settled = true;
        KeepTime();
        KeepFileAttributes(target.Handle, target.Name);
    }

    /// <summary>Renames the file over its target, which is in the same directory under the target's own name.</summary>
    public void Commit(string targetName)
    {
        int errno = Posix.RenameAt(_directory.Handle, Name, targetName);
        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.FileWriteError, "Cannot move into place", Relative);
        }

        _settled = true;
        KeepTime();
        KeepFileAttributes(_directory.Handle, targetName);
    }

    /// <summary>Windows may set a renamed file's Archive attribute: attributes set before the rename (-Preserve
    /// Attributes) that did not survive it are set again on the file under its new name.</summary>
    private void KeepFileAttributes(SafeFileHandle directory, string name)
    {
        if (_fileAttributes is int wanted && Posix.StatAt(directory, name, out StatInfo stat) == 0 && stat.Attributes != wanted)
        {
            Check(Posix.SetFileAttributesAt(directory, name, wanted), "Cannot set the attributes of", Relative);
        }
    }

    /// <summary>Some file systems give a renamed file the time of the rename (fusefat, the FUSE FAT driver a USB stick is
    /// mounted with): a time set before the rename that did not survive it is set again, through the descriptor that is
    /// still open on exactly this file. Elsewhere this costs one fstat.</summary>
    private void KeepTime()
    {
        if (_time is (long seconds, uint nanoseconds) && Posix.StatAt(Handle, string.Empty, out StatInfo stat) == 0
            && (stat.MtimeSeconds != seconds || stat.MtimeNanoseconds != nanoseconds))
        {
            Check(Posix.SetModificationTime(Handle, seconds, nanoseconds), "Cannot set the time of", Relative);
        }
    }

    /// <summary>Leaves the file where it is, under its name (a partial file, or one waiting for the -DelayUpdates burst).</summary>
    public void Keep() => _settled = true;

    /// <summary>Closes the file; one neither committed nor kept is removed.</summary>
    public void Dispose()
    {
        Handle.Dispose();
        if (!_settled)
        {
            Posix.UnlinkAt(_directory.Handle, Name, isDirectory: false);
            _settled = true;
        }

        _directory.Dispose();
    }

    /// <summary>Owner, mode and time of an open file.</summary>
    internal static void Apply(SafeFileHandle file, AttributeSet attributes, string relative)
    {
        if (attributes.Has(AttributeFields.Uid | AttributeFields.Gid | AttributeFields.Mode) && Posix.StatAt(file, string.Empty, out StatInfo on) == 0)
        {
            // What the file system cannot hold (FAT: owners, modes) is not tried.
            attributes = attributes with { Fields = attributes.Fields & ~FileSystemProbe.Unheld(on.Device) };
        }

        bool uid = attributes.Has(AttributeFields.Uid);
        bool gid = attributes.Has(AttributeFields.Gid);
        if (uid || gid)
        {
            Check(Posix.Fchown(file, uid ? attributes.Uid : uint.MaxValue, gid ? attributes.Gid : uint.MaxValue), "Cannot set the owner of", relative);
        }

        // After chown (which drops security.capability), before the mode: an ACL's mask is the mode's group bits.
        Metadata.XattrApplier.Apply(Posix.XattrTarget.Open(file), attributes, relative);

        if (attributes.Has(AttributeFields.Mode))
        {
            Check(Posix.Fchmod(file, attributes.Mode), "Cannot set permissions of", relative);
        }

        if (attributes.Has(AttributeFields.Time))
        {
            Check(Posix.SetModificationTime(file, attributes.MtimeSeconds, attributes.MtimeNanoseconds), "Cannot set the time of", relative);
        }

        // Last: a ReadOnly file is complete before it is read-only.
        if (attributes.Has(AttributeFields.FileAttributes))
        {
            Check(Posix.SetFileAttributes(file, attributes.FileAttributes), "Cannot set the attributes of", relative);
        }
    }

    private static void Check(int errno, string what, string relative)
    {
        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.MetadataFailed, what, relative);
        }
    }
}
