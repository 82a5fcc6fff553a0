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

    /// <summary>The oldest glibc the native agents run on (build.ps1 links them against 2.34's symbols); a server with an
    /// older one, or with another C library (musl), gets no native agent.</summary>
    public static readonly Version MinimumGlibc = new(2, 34);

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

    /// <summary>Whether the server's C library, as <c>getconf GNU_LIBC_VERSION</c> says it ("glibc 2.36"), runs the native
    /// agents: glibc <see cref="MinimumGlibc"/> or later. Nothing reported (musl, getconf missing) is not enough.</summary>
    public static bool GlibcFits(string? getconf)
    {
        const string Prefix = "glibc ";
        string said = getconf?.Trim() ?? string.Empty;
        return said.StartsWith(Prefix, StringComparison.Ordinal) && Version.TryParse(said[Prefix.Length..], out Version? version)
            && version >= MinimumGlibc;
    }

    /// <summary>A POSIX sh <c>case</c> that sets <paramref name="variable"/> to <paramref name="valueOf"/>(rid) for the
    /// server's uname, from the same table, so that the launcher script and <see cref="RuntimeIdentifier"/> never
    /// disagree. Rids without a value are left out.</summary>
    public static string ShellCase(string variable, Func<string, string?> valueOf)
    {
        ArgumentNullException.ThrowIfNull(valueOf);
        // The glibc check mirrors GlibcFits for 2.34: versions 2.0 to 2.33 and anything not glibc get nothing.
        var script = new System.Text.StringBuilder("case \"$(getconf GNU_LIBC_VERSION 2>/dev/null)\" in "
            + "'glibc 2.'[0-9]|'glibc 2.'[0-9].*|'glibc 2.'[12][0-9]|'glibc 2.'[12][0-9].*|'glibc 2.3'[0-3]|'glibc 2.3'[0-3].*) ;; "
            + "'glibc '[2-9].[0-9]*) case \"$(uname -sm 2>/dev/null)\" in ");
        foreach ((string uname, string rid) in s_platforms)
        {
            if (valueOf(rid) is { } value)
            {
                script.Append(RemoteShell.Quote(uname)).Append(") ").Append(variable).Append('=').Append(RemoteShell.Quote(value)).Append(";; ");
            }
        }

        return script.Append("esac;; esac").ToString();
    }
}
