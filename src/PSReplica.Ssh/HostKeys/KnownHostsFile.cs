using System.Globalization;
using System.Text;

namespace PSReplica.Ssh;

/// <summary>
/// A known_hosts file: the keys the user has accepted per host. Plain, wildcard, negated and hashed host fields,
/// <c>[host]:port</c> names and <c>@revoked</c> lines are honoured; <c>@cert-authority</c> lines are ignored
/// (host certificates are not supported) and counted in <see cref="IgnoredCertAuthorityLines"/>.
/// </summary>
public sealed class KnownHostsFile
{
    private readonly List<KnownHostsEntry> _entries;

    private KnownHostsFile(string path, List<KnownHostsEntry> entries, int ignoredCertAuthorityLines)
    {
        Path = path;
        _entries = entries;
        IgnoredCertAuthorityLines = ignoredCertAuthorityLines;
    }

    public string Path { get; }

    public IReadOnlyList<KnownHostsEntry> Entries => _entries;

    public int IgnoredCertAuthorityLines { get; }

    /// <summary>The default file: <c>~/.ssh/known_hosts</c>.</summary>
    public static string DefaultPath => System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh", "known_hosts");

    /// <summary>Reads the file; a missing file is an empty one (nothing known yet).</summary>
    /// <exception cref="SyncException">ErrorId SshConnectionFailed when the file exists but cannot be read.</exception>
    public static KnownHostsFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var entries = new List<KnownHostsEntry>();
        int certAuthorities = 0;
        string[] lines;
        try
        {
            lines = File.Exists(path) ? File.ReadAllLines(path) : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SyncException(ErrorIds.SshConnectionFailed, SyncErrorKind.ReadError, $"Cannot read the known hosts file '{path}': {ex.Message}", path, ex);
        }

        for (int i = 0; i < lines.Length; i++)
        {
            KnownHostsEntry? entry = KnownHostsEntry.TryParse(path, i + 1, lines[i]);
            if (entry is null)
            {
                continue;
            }

            if (entry.Marker == KnownHostsMarker.CertAuthority)
            {
                certAuthorities++;
                continue;
            }

            entries.Add(entry);
        }

        return new KnownHostsFile(path, entries, certAuthorities);
    }

    /// <summary>The name known_hosts files use: <c>host</c> on port 22, else <c>[host]:port</c>.</summary>
    public static string HostName(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        return port == 22 ? host : "[" + host + "]:" + port.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Judges a presented key. A revoked key loses whatever else says; a line with this very key makes it
    /// Known; lines for the host with other keys (of any type) make it a Mismatch, so that a peer cannot dodge
    /// the check by offering a key type the file does not hold yet; no line at all makes it Unknown.
    /// </summary>
    public HostKeyCheck Check(string host, int port, HostKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string name = HostName(host, port);
        KnownHostsEntry? known = null;
        KnownHostsEntry? other = null;
        foreach (KnownHostsEntry entry in _entries)
        {
            if (entry.Marker == KnownHostsMarker.Revoked)
            {
                // A revoked key is refused for every host, as OpenSSH does for a revoked line whose host matches;
                // refusing it whatever the host field says is the safer reading.
                if (entry.Key.Equals(key))
                {
                    return new HostKeyCheck(HostKeyVerdict.Revoked, entry);
                }

                continue;
            }

            if (!entry.Matches(name))
            {
                continue;
            }

            if (entry.Key.Equals(key))
            {
                known ??= entry;
            }
            else
            {
                other ??= entry;
            }
        }

        if (known is not null)
        {
            return new HostKeyCheck(HostKeyVerdict.Known, known);
        }

        return other is not null ? new HostKeyCheck(HostKeyVerdict.Mismatch, other) : new HostKeyCheck(HostKeyVerdict.Unknown, null);
    }

    /// <summary>The key types recorded for a host, first seen first: a client offers these first, as OpenSSH does.</summary>
    public IReadOnlyList<string> KnownKeyTypes(string host, int port)
    {
        string name = HostName(host, port);
        var types = new List<string>();
        foreach (KnownHostsEntry entry in _entries)
        {
            if (entry.Marker == KnownHostsMarker.None && !types.Contains(entry.Key.KeyType) && entry.Matches(name))
            {
                types.Add(entry.Key.KeyType);
            }
        }

        return types;
    }

    /// <summary>
    /// Appends a plain line for the host. Creates the directory (0700) and the file (0600) when missing, as
    /// OpenSSH does, since ssh refuses a group- or world-writable ~/.ssh.
    /// </summary>
    /// <exception cref="SyncException">ErrorId KnownHostsUnwritable.</exception>
    public static void Append(string path, string host, int port, HostKey key)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(key);
        string line = HostName(host, port) + " " + key.KeyType + " " + key.Base64 + "\n";
        try
        {
            string? directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (directory is not null && !Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }

            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var stream = new FileStream(path, options);
            if (stream.Length > 0 && !EndsWithNewline(path))
            {
                line = "\n" + line;
            }

            byte[] bytes = Encoding.ASCII.GetBytes(line);
            stream.Write(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SyncException(ErrorIds.KnownHostsUnwritable, SyncErrorKind.WriteError, $"Cannot add the host key of {HostName(host, port)} to '{path}': {ex.Message}", path, ex);
        }
    }

    private static bool EndsWithNewline(string path)
    {
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (reader.Length == 0)
        {
            return true;
        }

        reader.Seek(-1, SeekOrigin.End);
        return reader.ReadByte() == '\n';
    }
}
