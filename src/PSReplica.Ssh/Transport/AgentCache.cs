namespace PSReplica.Ssh.Transport;

/// <summary>The server's agent cache, ~/.cache/psreplica/agent/&lt;version&gt;[-&lt;rid&gt;]-&lt;hash&gt;/: one directory per agent
/// build ever deployed there. After a deployment the cache is pruned to the <see cref="Keep"/> most recently used
/// directories (each start of a cached agent touches its directory, so mtime is the last use).
/// A directory in use is never removed: a running agent holds a shared flock(2) on its directory
/// (PSReplica.Engine.Agent.AgentDirectoryLock) and pruning removes a directory only while holding <c>flock -n -x</c> on
/// it, which fails while any agent runs there. flock(1) rather than /proc/*/exe: it sees managed agents (whose exe is
/// dotnet) as well as native ones, needs no /proc, and cannot mistake another user's process; a server without flock(1)
/// (macOS) is simply not pruned. Pruning follows no symbolic link: only real directories with names the deployment
/// makes are considered, and rm -rf removes links inside them, never their targets.</summary>
internal static class AgentCache
{
    /// <summary>How many cached agent directories are kept, the one just deployed included.</summary>
    public const int Keep = 3;

    /// <summary>The cache relative to the server's home.</summary>
    public const string Folder = ".cache/psreplica/agent";

    /// <summary>A POSIX sh script that prunes the cache, never <paramref name="current"/>, and prints pruned=&lt;name&gt;
    /// for each directory removed. It exits 0 whatever it could not do.</summary>
    public static string PruneScript(string current, int keep = Keep) =>
        // set -f: the unquoted $(ls) is split into names but never expanded as a pattern.
        "set -f; cd \"$HOME/" + Folder + "\" 2>/dev/null || exit 0; command -v flock >/dev/null 2>&1 || exit 0; i=0; "
        // ls -t sorts by the entries' own mtime (no -L: a link is not followed); the names are ours, without blanks.
        + "for x in $(ls -t 2>/dev/null); do "
        + "case \"$x\" in .*|*[!A-Za-z0-9._+-]*) continue;; esac; "
        + "if [ -L \"$x\" ] || [ ! -d \"$x\" ]; then continue; fi; "
        + "i=$((i+1)); if [ \"$i\" -le " + keep.ToString(System.Globalization.CultureInfo.InvariantCulture) + " ] || [ \"$x\" = "
        + RemoteShell.Quote(current) + " ]; then continue; fi; "
        + "if flock -n -x \"$x\" rm -rf -- \"$x\" 2>/dev/null; then echo \"pruned=$x\"; fi; done; exit 0";
}
