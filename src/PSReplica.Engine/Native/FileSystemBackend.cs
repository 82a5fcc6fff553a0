namespace PSReplica.Engine.Native;

/// <summary>Which implementation of the local file-system calls a run uses.</summary>
public enum FileSystemBackendKind
{
    /// <summary>Linux's own calls: descriptors, *at calls that follow no link, statx, copy_file_range.</summary>
    Linux,

    /// <summary>System.IO, with the few platform calls .NET does not wrap: Windows, macOS, and Linux when asked for.</summary>
    Portable,
}

/// <summary>The backend of the run in progress (flowing with it into its tasks and threads), and the process's default:
/// Linux's calls on Linux, the portable backend elsewhere or where the environment variable PSREPLICA_FILESYSTEM is
/// "portable".</summary>
internal static class FileSystemBackend
{
    public const string EnvironmentVariable = "PSREPLICA_FILESYSTEM";

    private static readonly AsyncLocal<FileSystemBackendKind?> s_current = new();

    /// <summary>The process's backend; null with <paramref name="error"/> when PSREPLICA_FILESYSTEM names none that
    /// runs here.</summary>
    public static FileSystemBackendKind? FromEnvironment(out string? error)
    {
        string? value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        error = null;
        if (string.IsNullOrEmpty(value))
        {
            return OperatingSystem.IsLinux() ? FileSystemBackendKind.Linux : FileSystemBackendKind.Portable;
        }

        if (string.Equals(value, "portable", StringComparison.OrdinalIgnoreCase))
        {
            return FileSystemBackendKind.Portable;
        }

        if (string.Equals(value, "linux", StringComparison.OrdinalIgnoreCase))
        {
            if (OperatingSystem.IsLinux())
            {
                return FileSystemBackendKind.Linux;
            }

            error = $"{EnvironmentVariable}=linux: the Linux backend runs on Linux only; this is {System.Runtime.InteropServices.RuntimeInformation.OSDescription}.";
            return null;
        }

        error = $"{EnvironmentVariable}='{value}' names no file-system backend; use 'portable' (System.IO, every platform) or 'linux' (Linux only), or leave it unset.";
        return null;
    }

    /// <summary>The default of a run's options: PSREPLICA_FILESYSTEM as it is now when it is valid, else the
    /// platform's own.</summary>
    public static FileSystemBackendKind Default => FromEnvironment(out _)
        ?? (OperatingSystem.IsLinux() ? FileSystemBackendKind.Linux : FileSystemBackendKind.Portable);

    /// <summary>The backend of calls made outside any run's scope: the default as the process started.</summary>
    private static readonly FileSystemBackendKind s_processDefault = Default;

    public static FileSystemBackendKind Current => s_current.Value ?? s_processDefault;

    public static bool IsPortable => Current == FileSystemBackendKind.Portable;

    /// <summary>The -Verbose line that says which backend serves the run, and why.</summary>
    public static string Describe(FileSystemBackendKind kind) => kind == FileSystemBackendKind.Linux
        ? "File system: the Linux backend (descriptors, *at calls that follow no link, statx, copy_file_range)"
        : $"File system: the portable backend (System.IO; {(OperatingSystem.IsLinux() ? EnvironmentVariable + "=portable" : "the platform's default")}): "
            + "times to 100 ns, no owners, no hard links in sources, -OneFileSystem and -Preserve Acls/ExtendedAttributes refused"
            + (FileAttributeStore.Available ? "; Windows file attributes (-Preserve Attributes, -ArchiveOnly, -ResetArchive)" : "");

    /// <summary>Makes <paramref name="kind"/> the backend of the calling flow until the scope is disposed (a run sets it
    /// once at its start; its tasks and threads inherit it).</summary>
    public static Scope Use(FileSystemBackendKind kind)
    {
        if (kind == FileSystemBackendKind.Linux && !OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The Linux file-system backend runs on Linux only.");
        }

        FileSystemBackendKind? previous = s_current.Value;
        s_current.Value = kind;
        return new Scope(previous);
    }

    /// <summary>Restores the backend that was current before <see cref="Use"/>.</summary>
    internal readonly struct Scope(FileSystemBackendKind? previous) : IDisposable
    {
        public void Dispose() => s_current.Value = previous;
    }
}
