namespace PSReplica.Ssh.Transport;

/// <summary>Which agent a server gets, in this order: the agent installed with the module on the server (run with its
/// dotnet); this module's native agent for the server's platform (no .NET needed there); this module's managed agent
/// where the server has .NET but no native build fits (macOS, FreeBSD, a development build without native agents);
/// else none, and the runner falls back to SFTP. A native agent that was deployed but could not start there (the cache on
/// a noexec file system) counts as not fitting. <see cref="Why"/> is -Verbose's reason.</summary>
internal sealed record AgentChoice(AgentKind Kind, string? RuntimeIdentifier, string Why)
{
    /// <summary>The probe's <c>native</c> value when the server's cached native agent is marked as unable to run there.</summary>
    public const string CannotRun = "cannot-run";

    /// <summary>Decides from the probe's facts (<c>dotnet</c>, <c>installed</c>, <c>uname</c>, <c>glibc</c>, and <c>native</c>
    /// when the deployed native agent cannot run) and the native agents this module holds.</summary>
    /// <exception cref="SyncException">AgentFailed when no agent can run there.</exception>
    public static AgentChoice Choose(IReadOnlyDictionary<string, List<string>> probe, Func<string, bool> hasNative, string description)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(hasNative);
        string? dotnet = First(probe, "dotnet");
        bool installed = probe.TryGetValue("installed", out List<string>? agents) && agents.Count > 0;
        string? uname = First(probe, "uname");
        string? glibc = First(probe, "glibc");
        if (installed && dotnet is not null)
        {
            return new AgentChoice(AgentKind.Installed, null, "the module is installed on the server");
        }

        string platform = uname is null ? "an unreported platform" : $"'{uname}'";
        string? rid = AgentPlatform.RuntimeIdentifier(uname);
        string notInstalled = installed ? "the module installed on the server has no 'dotnet' to run it" : "no PSReplica module is installed on the server";
        bool built = rid is not null && hasNative(rid);
        bool cannotRun = First(probe, "native") == CannotRun;
        if (built && AgentPlatform.GlibcFits(glibc) && !cannotRun)
        {
            return new AgentChoice(AgentKind.Native, rid, $"{notInstalled}; the native {rid} agent fits its platform ({platform}) and needs no .NET"
                + (dotnet is null ? " (the server has none)" : string.Empty));
        }

        string noNative = rid is null ? $"no native agent is built for {platform}"
            : !built ? $"this module has no native {rid} agent (a development build)"
            : cannotRun ? $"the native {rid} agent cannot run from the server's agent cache (~/{AgentCache.Folder} on a noexec file system, "
                + "or the program does not start there; remove its folder there to try again)"
            : $"the native {rid} agent needs glibc {AgentPlatform.MinimumGlibc} or later and the server has {(glibc is null ? "none reported" : "'" + glibc + "'")}";
        if (dotnet is not null)
        {
            return new AgentChoice(AgentKind.Managed, null, $"{notInstalled}; {noNative}; the server has .NET ({dotnet})");
        }

        throw new SyncException(ErrorIds.AgentFailed, SyncErrorKind.NotFound,
            $"{description} has neither a PSReplica agent nor the .NET runtime ('dotnet'), and {noNative}: install PSReplica or .NET there, or pass -RemoteCommand.",
            description);
    }

    private static string? First(IReadOnlyDictionary<string, List<string>> probe, string key) =>
        probe.TryGetValue(key, out List<string>? values) && values.Count > 0 ? values[0] : null;
}

/// <summary>The kinds of agent a server can get, in the order of choice.</summary>
internal enum AgentKind
{
    /// <summary>Installed with the module on the server, run with its dotnet.</summary>
    Installed,

    /// <summary>This module's native agent for the server's platform, deployed into its cache and run directly.</summary>
    Native,

    /// <summary>This module's managed agent, deployed into its cache and run with the server's dotnet.</summary>
    Managed,
}
