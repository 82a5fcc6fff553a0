namespace PSReplica.Ssh.Transport;

/// <summary>Which native agent build runs on a server, from its <c>uname -sm</c>. Only the platforms the module ships a
/// native agent for are named; on any other (macOS, FreeBSD, 32-bit ARM, ...) the managed agent runs where .NET is.</summary>
internal static class AgentPlatform
{
    /// <summary><c>uname -sm</c> as the kernel says it -> runtime identifier. Linux says aarch64; some kernels and
    /// busybox builds say arm64.</summary>
    private static readonly (string Uname, string Rid)[] s_platforms =
    [
        ("Linux x86_64", "linux-x64"),
        ("Linux aarch64", "linux-arm64"),
        ("Linux arm64", "linux-arm64"),
    ];

    /// <summary>The runtime identifiers a native agent is built for (the folders under agent/native/).</summary>
    public static IReadOnlyList<string> RuntimeIdentifiers { get; } = ["linux-x64", "linux-arm64"];

    /// <summary>The runtime identifier of a native agent that runs on the server, or null when none is built for it.</summary>
    public static string? RuntimeIdentifier(string? unameSm)
    {
        if (unameSm is null)
        {
            return null;
        }

        // uname separates the two fields by one space; be lenient about surrounding white space.
        string[] fields = unameSm.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length != 2)
        {
            return null;
        }

        string normalized = fields[0] + " " + fields[1];
        foreach ((string uname, string rid) in s_platforms)
        {
            if (string.Equals(normalized, uname, StringComparison.Ordinal))
            {
                return rid;
            }
        }

        return null;
    }

    /// <summary>A POSIX sh <c>case</c> that sets <paramref name="variable"/> to <paramref name="valueOf"/>(rid) for the
    /// server's uname, from the same table, so that the launcher script and <see cref="RuntimeIdentifier"/> never
    /// disagree. Rids without a value are left out.</summary>
    public static string ShellCase(string variable, Func<string, string?> valueOf)
    {
        ArgumentNullException.ThrowIfNull(valueOf);
        var script = new System.Text.StringBuilder("case \"$(uname -sm 2>/dev/null)\" in ");
        foreach ((string uname, string rid) in s_platforms)
        {
            if (valueOf(rid) is { } value)
            {
                script.Append(RemoteShell.Quote(uname)).Append(") ").Append(variable).Append('=').Append(RemoteShell.Quote(value)).Append(";; ");
            }
        }

        return script.Append("esac").ToString();
    }
}
