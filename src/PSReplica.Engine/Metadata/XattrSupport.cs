using PSReplica.Engine.Native;

namespace PSReplica.Engine.Metadata;

/// <summary>Whether a destination's file system can hold the attributes of a scope, asked once before a run: a value
/// is read from the directory (nothing is written), and EOPNOTSUPP means the file system has no such namespace.</summary>
internal static class XattrSupport
{
    /// <summary>The options a run to a local destination goes on with: what -Preserve asks for less what the file
    /// system at <paramref name="directory"/> (the destination, or the directory it will be created in) cannot hold, said
    /// in one warning. The run then neither compares nor writes those, so that it converges there.</summary>
    public static SyncOptions Narrow(SyncOptions options, string? directory, ISyncObserver observer)
    {
        if (options.XattrScope == XattrScope.None || directory is null)
        {
            return options;
        }

        XattrScope missing = Unsupported(directory, options.XattrScope);
        if (missing == XattrScope.None)
        {
            return options;
        }

        var what = new List<string>();
        PreserveOptions dropped = PreserveOptions.None;
        if ((missing & XattrScope.User) != 0)
        {
            what.Add("extended attributes");
            dropped |= PreserveOptions.ExtendedAttributes;
        }

        if ((missing & XattrScope.Acls) != 0)
        {
            what.Add("ACLs");
            dropped |= PreserveOptions.Acls;
        }

        observer.OnWarning($"The destination's file system ('{directory}') cannot hold {string.Join(" or ", what)}: files are copied without them.");
        return options with { Preserve = options.Preserve & ~dropped };
    }

    /// <summary>The namespaces of <paramref name="scope"/> that <paramref name="directory"/>'s file system has none of
    /// (user.* stands for the namespaces -Preserve ExtendedAttributes copies).</summary>
    public static XattrScope Unsupported(string directory, XattrScope scope)
    {
        XattrScope missing = XattrScope.None;
        byte[] value = new byte[Posix.XattrSizeMax];
        if ((scope & XattrScope.User) != 0 && Posix.XattrTarget.Path(directory).Get("user.psreplica-probe", value) == -Posix.EOPNOTSUPP)
        {
            missing |= XattrScope.User;
        }

        if ((scope & XattrScope.Acls) != 0 && Posix.XattrTarget.Path(directory).Get(XattrScopes.AccessAcl, value) == -Posix.EOPNOTSUPP)
        {
            missing |= XattrScope.Acls;
        }

        return missing;
    }
}
