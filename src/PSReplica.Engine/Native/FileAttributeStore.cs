using System.Runtime.Versioning;

namespace PSReplica.Engine.Native;

/// <summary>Where the portable backend reads and sets Windows' file attributes ReadOnly, Hidden, System and Archive
/// (-Preserve Attributes, -ArchiveOnly, -ResetArchive). On Windows it is the file system itself (File.GetAttributes and
/// File.SetAttributes, link not followed). Other systems have no such attributes, and the options are refused there,
/// unless a test installed a store of its own for its flow with <see cref="Use"/>: the test seam through which xunit
/// runs the real planner and executor on Linux against an in-memory store. The tests therefore run everything but the
/// Windows calls in <see cref="WindowsStore"/>, which no test here runs.</summary>
internal interface IFileAttributeStore
{
    /// <summary>The kept attributes of the item at <paramref name="path"/> (a link itself, not what it names);
    /// <paramref name="reported"/> is what System.IO told for it.</summary>
    FileAttributes Read(string path, FileAttributes reported);

    /// <summary>Makes the kept attributes of the item at <paramref name="path"/> exactly <paramref name="attributes"/>,
    /// leaving the others; 0 or an errno.</summary>
    int Write(string path, FileAttributes attributes);

    /// <summary>Whether the item at <paramref name="path"/> may be replaced, removed or opened for writing now: 0, or
    /// EACCES for a ReadOnly item, as Windows refuses one. Windows answers for itself, so its store says 0.</summary>
    int MayChange(string path);

    /// <summary>The item at <paramref name="oldPath"/> was renamed to <paramref name="newPath"/> (Windows' attributes move
    /// with the file by themselves).</summary>
    void Moved(string oldPath, string newPath);

    /// <summary>The item at <paramref name="path"/> was removed.</summary>
    void Removed(string path);
}

/// <summary>The attribute store of the run in progress: a test's (<see cref="Use"/>, flowing with the run into its tasks
/// and threads as <see cref="FileSystemBackend"/> does), else Windows' own, else none.</summary>
internal static class FileAttributeStore
{
    /// <summary>The attributes -Preserve Attributes compares and copies (robocopy /COPY:A).</summary>
    public const FileAttributes Kept = FileAttributes.ReadOnly | FileAttributes.Hidden | FileAttributes.System | FileAttributes.Archive;

    private static readonly AsyncLocal<IFileAttributeStore?> s_test = new();

    /// <summary>The store the portable backend uses; null where the platform has no such attributes.</summary>
    public static IFileAttributeStore? Current => s_test.Value ?? (OperatingSystem.IsWindows() ? WindowsStore.Instance : null);

    /// <summary>True where the portable backend holds Windows' attributes: on Windows, or with a test's store installed.</summary>
    public static bool Available => Current is not null;

    /// <summary>Installs <paramref name="store"/> for the calling flow until the scope is disposed (tests only).</summary>
    public static Scope Use(IFileAttributeStore store)
    {
        IFileAttributeStore? previous = s_test.Value;
        s_test.Value = store;
        return new Scope(previous);
    }

    internal readonly struct Scope(IFileAttributeStore? previous) : IDisposable
    {
        public void Dispose() => s_test.Value = previous;
    }

    /// <summary>Windows' attributes on the file system itself. Not run by the tests (they run on Linux).</summary>
    [SupportedOSPlatform("windows")]
    private sealed class WindowsStore : IFileAttributeStore
    {
        public static readonly WindowsStore Instance = new();

        /// <summary>What SetFileAttributes can set beside the kept ones, and keeps as they are.</summary>
        private const FileAttributes Settable = FileAttributes.NotContentIndexed | FileAttributes.Offline | FileAttributes.Temporary;

        public FileAttributes Read(string path, FileAttributes reported) => reported & Kept;

        public int Write(string path, FileAttributes attributes)
        {
            try
            {
                FileAttributes now = File.GetAttributes(path);
                FileAttributes next = (now & Settable) | (attributes & Kept);
                File.SetAttributes(path, next == 0 ? FileAttributes.Normal : next);
                return 0;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                return PortableCalls.Errno(ex);
            }
        }

        public int MayChange(string path) => 0;

        public void Moved(string oldPath, string newPath)
        {
        }

        public void Removed(string path)
        {
        }
    }
}
