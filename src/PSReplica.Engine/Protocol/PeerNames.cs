using PSReplica.Engine.Native;

namespace PSReplica.Engine.Protocol;

/// <summary>Checks every name that comes from the peer (DESIGN.md security invariant 1): relative, '/'-separated,
/// no empty, '.' or '..' component, no NUL, no leading '/', no drive or UNC prefix, within PATH_MAX and NAME_MAX.
/// The first violation aborts the session (rsync: "ABORTING due to unsafe pathname").</summary>
internal static class PeerNames
{
    /// <summary>Checks a relative path; the empty string (the root itself) is accepted only when <paramref name="allowRoot"/>.</summary>
    /// <exception cref="SyncException">UnsafePath.</exception>
    public static string CheckPath(string path, bool allowRoot)
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

        if (path[0] == '/' || path[0] == '\\')
        {
            throw ProtocolFault.UnsafePath(path, "an absolute path");
        }

        if (path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':')
        {
            throw ProtocolFault.UnsafePath(path, "a drive prefix");
        }

        int start = 0;
        while (true)
        {
            int slash = path.IndexOf('/', start);
            int end = slash < 0 ? path.Length : slash;
            CheckComponent(path, path.AsSpan(start, end - start));
            if (slash < 0)
            {
                return path;
            }

            start = slash + 1;
        }
    }

    /// <summary>Checks the name of one item (no '/').</summary>
    public static string CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Contains('/', StringComparison.Ordinal))
        {
            throw ProtocolFault.UnsafePath(name, "a '/' inside one name");
        }

        if (name.Length >= 2 && char.IsAsciiLetter(name[0]) && name[1] == ':')
        {
            throw ProtocolFault.UnsafePath(name, "a drive prefix");
        }

        CheckComponent(name, name);
        return name;
    }

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

    private static void CheckComponent(string whole, ReadOnlySpan<char> component)
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

        if (component.StartsWith("\\\\", StringComparison.Ordinal))
        {
            throw ProtocolFault.UnsafePath(whole, "a UNC prefix");
        }

        if (NameCodec.GetByteCount(component) > ProtocolLimits.MaxNameBytes)
        {
            throw ProtocolFault.UnsafePath(whole, "a component longer than NAME_MAX");
        }
    }

    /// <summary>Joins a directory's relative path and a child's name.</summary>
    public static string Join(string directory, string name) => directory.Length == 0 ? name : directory + "/" + name;
}
