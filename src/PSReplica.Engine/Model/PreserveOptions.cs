using System;

namespace PSReplica;

/// <summary>Which attributes are replicated (rsync -t, -p, -o, -g, -l).</summary>
[Flags]
public enum PreserveOptions
{
    None = 0,
    Times = 1,
    Permissions = 2,
    Owner = 4,
    Group = 8,
    Links = 16,
}
