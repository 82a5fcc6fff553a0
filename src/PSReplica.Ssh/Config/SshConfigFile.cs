using System.Globalization;
using System.Text;

namespace PSReplica.Ssh;

/// <summary>
/// The client side of an OpenSSH config file (<c>~/.ssh/config</c>), read for the few keywords a transport
/// needs: HostName, User, Port, IdentityFile, UserKnownHostsFile, ProxyJump, ProxyCommand, KexAlgorithms and Ciphers.
/// </summary>
/// <remarks>
/// As ssh_config(5) says: keywords are case-insensitive; arguments follow whitespace or <c>=</c> and may be
/// double-quoted; the first value obtained for a keyword wins (IdentityFile accumulates); <c>Host</c> takes
/// several patterns with <c>*</c>, <c>?</c> and <c>!</c>; <c>Include</c> reads further files (globs allowed,
/// relative to ~/.ssh). <c>Match</c> blocks are not evaluated: their lines are skipped, so they never apply.
/// </remarks>
public sealed class SshConfigFile
{
    private const int MaxIncludeDepth = 16;

    private readonly List<ConfigLine> _lines;

    private SshConfigFile(string path, List<ConfigLine> lines)
    {
        Path = path;
        _lines = lines;
    }

    public string Path { get; }

    /// <summary>The default file: <c>~/.ssh/config</c>.</summary>
    public static string DefaultPath => System.IO.Path.Combine(Home, ".ssh", "config");

    private static string Home => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    /// <summary>An empty configuration, for when none should be read.</summary>
    public static SshConfigFile Empty { get; } = new(string.Empty, []);

    /// <summary>Reads the file and what it includes; a missing file is an empty configuration.</summary>
    /// <exception cref="SyncException">ErrorId SshConfigInvalid when the file cannot be read or is malformed.</exception>
    public static SshConfigFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var lines = new List<ConfigLine>();
        if (File.Exists(path))
        {
            Read(path, [], lines, 0);
        }

        return new SshConfigFile(path, lines);
    }

    /// <summary>Parses configuration text (for tests and callers that hold the text).</summary>
    public static SshConfigFile Parse(string text, string path = "<text>")
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new List<ConfigLine>();
        ReadLines(path, text.Split('\n'), [], lines, 0);
        return new SshConfigFile(path, lines);
    }

    /// <summary>The settings for <paramref name="alias"/>, with tokens in IdentityFile expanded.</summary>
    /// <exception cref="SyncException">ErrorId SshConfigInvalid for a bad Port or an unknown % token.</exception>
    public SshHostConfig Resolve(string alias)
    {
        ArgumentException.ThrowIfNullOrEmpty(alias);
        string? hostName = null;
        string? user = null;
        string? portText = null;
        string? knownHosts = null;
        string? proxyJump = null;
        string? proxyCommand = null;
        string? kexAlgorithms = null;
        string? ciphers = null;
        var identities = new List<string>();
        ConfigLine? portLine = null;
        foreach (ConfigLine line in _lines)
        {
            if (!line.AppliesTo(alias))
            {
                continue;
            }

            switch (line.Keyword)
            {
                case "hostname":
                    hostName ??= line.Arguments[0];
                    break;
                case "user":
                    user ??= line.Arguments[0];
                    break;
                case "port":
                    if (portText is null)
                    {
                        portText = line.Arguments[0];
                        portLine = line;
                    }

                    break;
                case "identityfile":
                    // "IdentityFile none" names no file; the other lines still add theirs.
                    if (!string.Equals(line.Arguments[0], "none", StringComparison.OrdinalIgnoreCase))
                    {
                        identities.Add(line.Arguments[0]);
                    }

                    break;
                case "userknownhostsfile":
                    knownHosts ??= line.Arguments[0];
                    break;
                case "proxyjump":
                    proxyJump ??= line.Arguments[0];
                    break;
                case "proxycommand":
                    proxyCommand ??= string.Join(' ', line.Arguments);
                    break;
                case "kexalgorithms":
                    kexAlgorithms ??= line.Arguments[0];
                    break;
                case "ciphers":
                    ciphers ??= line.Arguments[0];
                    break;
            }
        }

        int? port = null;
        if (portText is not null)
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value is < 1 or > 65535)
            {
                throw Invalid(portLine!.Path, portLine.LineNumber, $"Port '{portText}' is not a port number (1 to 65535)");
            }

            port = value;
        }

        // HostName may use %h for the alias (HostName %h.example.org).
        string? realHost = hostName is null ? null : ExpandTokens(hostName, alias, alias, user, port, alias);
        string effectiveHost = realHost ?? alias;
        var expanded = new List<string>(identities.Count);
        foreach (string identity in identities)
        {
            expanded.Add(ExpandPath(ExpandTokens(identity, alias, effectiveHost, user, port, alias)));
        }

        string? knownHostsFile = knownHosts is null || string.Equals(knownHosts, "none", StringComparison.OrdinalIgnoreCase)
            ? null
            : ExpandPath(ExpandTokens(knownHosts, alias, effectiveHost, user, port, alias));
        bool noProxy = string.Equals(proxyJump, "none", StringComparison.OrdinalIgnoreCase);
        bool noProxyCommand = string.Equals(proxyCommand, "none", StringComparison.OrdinalIgnoreCase);
        return new SshHostConfig(alias, realHost, user, port, expanded, knownHostsFile, noProxy ? null : proxyJump, noProxyCommand ? null : proxyCommand,
            kexAlgorithms, ciphers);
    }

    /// <summary>Expands a leading <c>~</c> or <c>~/</c> to the user's home directory.</summary>
    public static string ExpandPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path == "~")
        {
            return Home;
        }

        return path.StartsWith("~/", StringComparison.Ordinal) ? System.IO.Path.Combine(Home, path[2..]) : path;
    }

    /// <summary>The % tokens of ssh_config(5) that make sense without a connection: %% %d %u %h %r %p %n.</summary>
    private static string ExpandTokens(string value, string context, string host, string? user, int? port, string alias)
    {
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var text = new StringBuilder(value.Length + 32);
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] != '%')
            {
                text.Append(value[i]);
                continue;
            }

            char token = i + 1 < value.Length ? value[++i] : '\0';
            text.Append(token switch
            {
                '%' => "%",
                'd' => Home,
                'u' => Environment.UserName,
                'h' => host,
                'r' => user ?? Environment.UserName,
                'p' => (port ?? 22).ToString(CultureInfo.InvariantCulture),
                'n' => alias,
                _ => throw new SyncException(ErrorIds.SshConfigInvalid, SyncErrorKind.InvalidArgument,
                    $"The ssh config value '{value}' (for {context}) uses the token '%{token}', which PSReplica does not expand; use -SshCommand to let ssh read it.", value),
            });
        }

        return text.ToString();
    }

    private static void Read(string path, List<string[]> conditions, List<ConfigLine> lines, int depth)
    {
        string[] text;
        try
        {
            text = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SyncException(ErrorIds.SshConfigInvalid, SyncErrorKind.ReadError, $"Cannot read the ssh config file '{path}': {ex.Message}", path, ex);
        }

        ReadLines(path, text, conditions, lines, depth);
    }

    private static void ReadLines(string path, string[] text, List<string[]> outer, List<ConfigLine> lines, int depth)
    {
        // The block a line belongs to: the enclosing file's conditions plus this file's current Host line.
        string[]? host = null;
        bool inMatch = false;
        for (int i = 0; i < text.Length; i++)
        {
            List<string> words = Split(path, i + 1, text[i]);
            if (words.Count == 0)
            {
                continue;
            }

            string keyword = words[0].ToLowerInvariant();
            words.RemoveAt(0);
            if (keyword == "host")
            {
                if (words.Count == 0)
                {
                    throw Invalid(path, i + 1, "Host needs at least one pattern");
                }

                host = [.. words];
                inMatch = false;
                continue;
            }

            if (keyword == "match")
            {
                inMatch = true;
                continue;
            }

            if (inMatch)
            {
                continue;
            }

            if (words.Count == 0)
            {
                throw Invalid(path, i + 1, $"'{keyword}' has no value");
            }

            var conditions = new List<string[]>(outer);
            if (host is not null)
            {
                conditions.Add(host);
            }

            if (keyword == "include")
            {
                if (depth >= MaxIncludeDepth)
                {
                    throw Invalid(path, i + 1, "Include nests too deeply");
                }

                foreach (string pattern in words)
                {
                    foreach (string file in ExpandInclude(pattern))
                    {
                        Read(file, conditions, lines, depth + 1);
                    }
                }

                continue;
            }

            lines.Add(new ConfigLine(path, i + 1, keyword, [.. words], conditions));
        }
    }

    /// <summary>Include's argument: relative names are under ~/.ssh; '*' and '?' in the file name are globbed.</summary>
    private static string[] ExpandInclude(string pattern)
    {
        string full = ExpandPath(pattern);
        if (!System.IO.Path.IsPathRooted(full))
        {
            full = System.IO.Path.Combine(Home, ".ssh", full);
        }

        string? directory = System.IO.Path.GetDirectoryName(full);
        string name = System.IO.Path.GetFileName(full);
        if (directory is null || !Directory.Exists(directory))
        {
            return [];
        }

        if (name.IndexOfAny(['*', '?']) < 0)
        {
            return File.Exists(full) ? [full] : [];
        }

        string[] files = Directory.GetFiles(directory, name);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>Splits a line into words: whitespace separates, one '=' may separate the keyword, quotes group.</summary>
    private static List<string> Split(string path, int lineNumber, string line)
    {
        var words = new List<string>();
        string text = line.Trim();
        if (text.Length == 0 || text[0] == '#')
        {
            return words;
        }

        int i = 0;
        var word = new StringBuilder();
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (words.Count == 1 && i < text.Length && text[i] == '=')
            {
                i++;
                continue;
            }

            if (i >= text.Length)
            {
                break;
            }

            word.Clear();
            if (text[i] == '"')
            {
                int close = text.IndexOf('"', i + 1);
                if (close < 0)
                {
                    throw Invalid(path, lineNumber, "a quote is not closed");
                }

                word.Append(text, i + 1, close - i - 1);
                i = close + 1;
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && !(words.Count == 0 && text[i] == '='))
                {
                    word.Append(text[i++]);
                }
            }

            words.Add(word.ToString());
        }

        return words;
    }

    private static SyncException Invalid(string path, int lineNumber, string why) =>
        new(ErrorIds.SshConfigInvalid, SyncErrorKind.InvalidArgument, $"{path}:{lineNumber.ToString(CultureInfo.InvariantCulture)}: {why}.", path);

    private sealed record ConfigLine(string Path, int LineNumber, string Keyword, string[] Arguments, List<string[]> Conditions)
    {
        public bool AppliesTo(string alias)
        {
            foreach (string[] patterns in Conditions)
            {
                if (!HostPattern.MatchList(alias, patterns))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
