using System.Runtime.InteropServices;
using static PSReplica.Engine.Native.Posix;

namespace PSReplica.Engine.Native;

/// <summary>The *at calls that join two directory descriptors: a hard link or a rename from one directory to another,
/// neither following a final link (the agent links basis files and moves backups with them).</summary>
internal static partial class LinuxCalls
{
    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int LinkatNative(int oldDirfd, string oldPath, int newDirfd, string newPath, int flags);

    /// <summary>linkat(2) without AT_SYMLINK_FOLLOW: a final link is linked itself, never its referent. 0 or an errno.</summary>
    public static int LinkAt(SafeFileHandle oldDirectory, string oldName, SafeFileHandle newDirectory, string newName) =>
        LinkatNative(Descriptor(oldDirectory), oldName, Descriptor(newDirectory), newName, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int Renameat2Native(int oldDirfd, string oldPath, int newDirfd, string newPath, uint flags);

    private const uint RenameNoReplace = 1;

    /// <summary>renameat2(2) with RENAME_NOREPLACE: EEXIST when the new name is taken, never replacing what is there (an
    /// empty directory included, which renameat would replace). 0 or an errno.</summary>
    public static int RenameAtNoReplace(SafeFileHandle oldDirectory, string oldName, SafeFileHandle newDirectory, string newName) =>
        Renameat2Native(Descriptor(oldDirectory), oldName, Descriptor(newDirectory), newName, RenameNoReplace) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>renameat(2) between two directories (EXDEV across filesystems). 0 or an errno.</summary>
    public static int RenameAt(SafeFileHandle oldDirectory, string oldName, SafeFileHandle newDirectory, string newName) =>
        RenameatNative(Descriptor(oldDirectory), oldName, Descriptor(newDirectory), newName) == 0 ? 0 : Marshal.GetLastPInvokeError();
}
