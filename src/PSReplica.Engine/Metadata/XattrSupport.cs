using PSReplica.Engine.Native;

namespace PSReplica.Engine.Metadata;

/// <summary>Whether a destination's file system can hold the attributes of a scope, asked once before a run: a value
/// is read from the directory (nothing is written), and EOPNOTSUPP means the file system has no such namespace.</summary>
internal static class XattrSupport
{
    /// <summary>Warns once, before a run to a local destination, when its file system cannot hold what -Preserve asks
    /// for (<paramref name="directory"/>: the destination, or the directory it will be created in).</summary>
    public static void WarnOnce(SyncOptions options, string? directory, ISyncObserver observer)
    {
        if (options.XattrScope != XattrScope.None && directory is not null && Check(directory, options.XattrScope) is { } warning)
        {
            observer.OnWarning(warning);
        }
    }

    /// <summary>A warning naming what <paramref name="directory"/>'s file system cannot hold, or null.</summary>
    public static string? Check(string directory, XattrScope scope)
    {
        var missing = new List<string>();
        byte[] value = new byte[Posix.XattrSizeMax];
        if ((scope & XattrScope.User) != 0 && Posix.XattrTarget.Path(directory).Get("user.psreplica-probe", value) == -Posix.EOPNOTSUPP)
        {
            missing.Add("extended attributes");
        }

        if ((scope & XattrScope.Acls) != 0 && Posix.XattrTarget.Path(directory).Get(XattrScopes.AccessAcl, value) == -Posix.EOPNOTSUPP)
        {
            missing.Add("ACLs");
        }

        return missing.Count == 0 ? null
            : $"The destination's file system ('{directory}') cannot hold {string.Join(" or ", missing)}: files are copied without them.";
    }
}
