namespace PSReplica.Engine.Metadata;

/// <summary>Which extended attributes a run reads, compares and writes (its namespaces), as rsync -A and -X do: user.*
/// with -Preserve ExtendedAttributes, and trusted.* and security.* too when the run is root's; the POSIX ACLs
/// (system.posix_acl_access and system.posix_acl_default) with -Preserve Acls. Any other system.* attribute (kernel
/// and file-system state) is never read nor written. The controller decides the scope once (from its own -Preserve and
/// whether it runs as root) and an agent uses the scope it is sent.</summary>
[Flags]
internal enum XattrScope : byte
{
    None = 0,

    /// <summary>user.*: -Preserve ExtendedAttributes.</summary>
    User = 1,

    /// <summary>trusted.* and security.*: -Preserve ExtendedAttributes when run as root (only root may read or set trusted.*).</summary>
    Privileged = 2,

    /// <summary>system.posix_acl_access and system.posix_acl_default: -Preserve Acls.</summary>
    Acls = 4,

    All = User | Privileged | Acls,
}

/// <summary>The names of <see cref="XattrScope"/>.</summary>
internal static class XattrScopes
{
    public const string AccessAcl = "system.posix_acl_access";
    public const string DefaultAcl = "system.posix_acl_default";

    /// <summary>The scope -Preserve asks for.</summary>
    public static XattrScope For(PreserveOptions preserve, bool elevated)
    {
        XattrScope scope = XattrScope.None;
        if ((preserve & PreserveOptions.ExtendedAttributes) != 0)
        {
            scope |= elevated ? XattrScope.User | XattrScope.Privileged : XattrScope.User;
        }

        if ((preserve & PreserveOptions.Acls) != 0)
        {
            scope |= XattrScope.Acls;
        }

        return scope;
    }

    /// <summary>True when <paramref name="name"/> is one of the scope's attributes.</summary>
    public static bool Includes(this XattrScope scope, string name)
    {
        if (name.StartsWith("user.", StringComparison.Ordinal))
        {
            return (scope & XattrScope.User) != 0;
        }

        if (name.StartsWith("trusted.", StringComparison.Ordinal) || name.StartsWith("security.", StringComparison.Ordinal))
        {
            return (scope & XattrScope.Privileged) != 0;
        }

        return (scope & XattrScope.Acls) != 0 && IsAcl(name);
    }

    public static bool IsAcl(string name) => name is AccessAcl or DefaultAcl;
}
