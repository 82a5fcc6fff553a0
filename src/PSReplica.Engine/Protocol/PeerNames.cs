using PSReplica.Engine.Native;

namespace PSReplica.Engine.Protocol;

/// <summary>Checks every name that comes from the peer (DESIGN.md security invariant 1): relative, '/'-separated,
/// no empty, '.' or '..' component, no NUL, no leading '/', within PATH_MAX and NAME_MAX; where this side runs on
/// Windows, also no '\' and no ':' in a name (what Windows would read as a path of its own: on Linux and macOS
/// such names, '\abc' or 'C:foo', are plain names, which rsync replicates, and this side opens every name relative to
/// its parent's descriptor). The first violation aborts the session (rsync: "ABORTING due to unsafe pathname").</summary>
internal static class PeerNames
{
    /// <summary>Checks a relative path; the empty string (the root itself) is accepted only when <paramref name="allowRoot"/>.</summary>
    /// <exception cref="SyncException">UnsafePath.</exception>
    public static string CheckPath(string path, bool allowRoot) => CheckPath(path, allowRoot, OperatingSystem.IsWindows());

    /// <summary>As <see cref="CheckPath(string, bool)"/>, with Windows' path forms refused or not (tests check both).</summary>
    internal static string CheckPath(string path, bool allowRoot, bool windows)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            return allowRoot ? path : throw ProtocolFault.UnsafePath(path, "an empty name");
        }

        if (NameCodec.GetByteCount(path) > ProtocolLimits.MaxPathBytes)
        {
            throw ProtocolFault.UnsafePath(path[..64], "longer than PATH_MAX");
        }

        if (path[0] == '/' || (windows && path[0] == '\\'))
        {
            throw ProtocolFault.UnsafePath(path, "an absolute path");
        }

        if (windows && HasDrivePrefix(path))
        {
            throw ProtocolFault.UnsafePath(path, "a drive prefix");
        }

        int start = 0;
        while (true)
        {
            int slash = path.IndexOf('/', start);
            int end = slash < 0 ? path.Length : slash;
            CheckComponent(path, path.AsSpan(start, end - start), windows);
            if (slash < 0)
            {
                return path;
            }

            start = slash + 1;
        }
    }

    /// <summary>Checks the name of one item (no '/').</summary>
    public static string CheckName(string name) => CheckName(name, OperatingSystem.IsWindows());

    /// <summary>As <see cref="CheckName(string)"/>, with Windows' path forms refused or not (tests check both).</summary>
    internal static string CheckName(string name, bool windows)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Contains('/', StringComparison.Ordinal))
        {
            throw ProtocolFault.UnsafePath(name, "a '/' inside one name");
        }

        if (windows && HasDrivePrefix(name))
        {
            throw ProtocolFault.UnsafePath(name, "a drive prefix");
        }

        CheckComponent(name, name, windows);
        return name;
    }

    private static bool HasDrivePrefix(string path) => path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':';

    /// <summary>A link's target may point anywhere (it is created, never followed), but must be a valid C string.</summary>
    public static string CheckLinkTarget(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.Length == 0 || target.Contains('\0', StringComparison.Ordinal)
            || NameCodec.GetByteCount(target) > ProtocolLimits.MaxLinkTargetBytes)
        {
            throw ProtocolFault.UnsafePath(target, "not a valid link target");
        }

        return target;
    }

    private static void CheckComponent(string whole, ReadOnlySpan<char> component, bool windows)
    {
        if (component.IsEmpty)
        {
            throw ProtocolFault.UnsafePath(whole, "an empty component");
        }

        if (component is "." or "..")
        {
            throw ProtocolFault.UnsafePath(whole, $"a '{component}' component");
        }

        if (component.Contains('\0'))
        {
            throw ProtocolFault.UnsafePath(whole, "a NUL character");
        }

        if (windows && component.Contains('\\'))
        {
            // A separator there: '..\\x' would climb, '\\\\server' name a share.
            throw ProtocolFault.UnsafePath(whole, "a '\\' (a separator on Windows)");
        }

        if (windows && component.Contains(':'))
        {
            throw ProtocolFault.UnsafePath(whole, "a ':' (a drive or a stream on Windows)");
        }

        if (NameCodec.GetByteCount(component) > ProtocolLimits.MaxNameBytes)
        {
            throw ProtocolFault.UnsafePath(whole, "a component longer than NAME_MAX");
        }
    }

    /// <summary>Joins a directory's relative path and a child's name.</summary>
    public static string Join(string directory, string name) => directory.Length == 0 ? name : directory + "/" + name;
}
