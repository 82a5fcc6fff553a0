using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace PSReplica.Ssh;

/// <summary>
/// A path on an SSH host, written as rsync does (<c>[user@]host:path</c>) or as a URI
/// (<c>ssh://[user@]host[:port]/path</c>). An empty <see cref="Path"/> means the login directory.
/// </summary>
/// <remarks>
/// Follows rsync's rule for telling remote from local (main.c, check_for_hostspec): a colon before the first
/// slash makes the argument remote, so <c>./a:b</c> and <c>/x/a:b</c> stay local. rsync's daemon syntax
/// (<c>host::module</c>, <c>rsync://</c>) is not supported and is refused rather than read as a path.
/// </remarks>
public sealed record RemotePath
{
    private const string UriScheme = "ssh://";

    public RemotePath(SshEndpoint endpoint, string path)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(path);
        Endpoint = endpoint;
        Path = path;
    }

    public SshEndpoint Endpoint { get; }

    /// <summary>The path on the host, as given: absolute, relative to the login directory, or empty for it.</summary>
    public string Path { get; }

    /// <summary>True when <paramref name="text"/> is written as a remote path (well formed or not).</summary>
    public static bool IsRemote(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return LooksRemote(text, OperatingSystem.IsWindows());
    }

    /// <summary>
    /// Tells a local path (false, <paramref name="remote"/> null) from a remote one (true). A remote path that is
    /// malformed is an error, not a local path: <c>host::x</c> copied to a directory named so would surprise.
    /// </summary>
    /// <exception cref="SyncException">ErrorId InvalidRemotePath.</exception>
    public static bool TryParse(string text, [NotNullWhen(true)] out RemotePath? remote) =>
        TryParse(text, OperatingSystem.IsWindows(), out remote);

    /// <summary><see cref="TryParse(string, out RemotePath?)"/> with Windows' local paths (<paramref name="windows"/>) or
    /// Unix's; the public one takes the running system's (the tests run both here).</summary>
    internal static bool TryParse(string text, bool windows, [NotNullWhen(true)] out RemotePath? remote)
    {
        ArgumentNullException.ThrowIfNull(text);
        remote = null;
        if (!LooksRemote(text, windows))
        {
            return false;
        }

        remote = text.StartsWith(UriScheme, StringComparison.OrdinalIgnoreCase) ? ParseUri(text) : ParseScpStyle(text);
        return true;
    }

    /// <summary>Parses a remote path; a local one is an error.</summary>
    /// <exception cref="SyncException">ErrorId InvalidRemotePath.</exception>
    public static RemotePath Parse(string text)
    {
        if (TryParse(text, out RemotePath? remote))
        {
            return remote;
        }

        throw Invalid(text, "it is a local path; a remote path is [user@]host:path or ssh://[user@]host[:port]/path");
    }

    /// <summary>The scp-style form, which ssh-based tools accept back.</summary>
    public override string ToString()
    {
        string host = Endpoint.Host.Contains(':', StringComparison.Ordinal) ? "[" + Endpoint.Host + "]" : Endpoint.Host;
        string user = Endpoint.User is null ? string.Empty : Endpoint.User + "@";
        if (Endpoint.Port is int port)
        {
            return UriScheme + user + host + ":" + port.ToString(CultureInfo.InvariantCulture) + (Path.StartsWith('/') ? Path : "/~/" + Path);
        }

        return user + host + ":" + Path;
    }

    private static bool LooksRemote(string text, bool windows)
    {
        if (text.StartsWith(UriScheme, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        int colon = HostColon(text);
        if (colon < 0)
        {
            return false;
        }

        // On Windows a backslash is a separator too, and no host name has one: a UNC or device path (\\server\share,
        // \\?\C:\x) and dir\a:b are local. A drive letter (C:\x, C:/x, C:x) is a local path there, as rsync's Cygwin
        // builds also assume.
        return !(windows && (text.AsSpan(0, colon).Contains('\\') || (colon == 1 && char.IsAsciiLetter(text[0]))));
    }

    /// <summary>The colon that ends the host part, or -1: it must come before the first slash.</summary>
    private static int HostColon(string text)
    {
        int start = 0;
        int at = text.IndexOf("@[", StringComparison.Ordinal);
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (text.StartsWith('['))
        {
            at = -1;
        }

        if (text.StartsWith('[') || (at >= 0 && (slash < 0 || at < slash)))
        {
            // An IPv6 literal: its own colons do not count; the one after ']' does.
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (slash >= 0 && close > slash))
            {
                return -1;
            }

            start = close;
        }

        int colon = text.IndexOf(':', start);
        if (colon < 0 || (slash >= 0 && slash < colon))
        {
            return -1;
        }

        return colon;
    }

    private static RemotePath ParseScpStyle(string text)
    {
        int colon = HostColon(text);
        string authority = text[..colon];
        string path = text[(colon + 1)..];
        if (path.StartsWith(':'))
        {
            throw Invalid(text, "rsync daemon addresses (host::module) are not supported; use host:path over SSH");
        }

        (string? user, string host) = SplitUser(text, authority);
        if (host.StartsWith('['))
        {
            if (!host.EndsWith(']'))
            {
                throw Invalid(text, "an IPv6 address in brackets must be followed directly by ':'");
            }

            host = host[1..^1];
        }

        return new RemotePath(new SshEndpoint(CheckHost(text, host), user), path);
    }

    private static RemotePath ParseUri(string text)
    {
        string rest = text[UriScheme.Length..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string authority = slash < 0 ? rest : rest[..slash];
        string path = slash < 0 ? string.Empty : Decode(text, rest[slash..]);
        if (authority.Contains('?', StringComparison.Ordinal) || authority.Contains('#', StringComparison.Ordinal)
            || path.Contains('\0', StringComparison.Ordinal))
        {
            throw Invalid(text, "queries, fragments and NUL characters are not part of an ssh:// address");
        }

        (string? user, string hostPort) = SplitUser(text, authority);
        user = user is null ? null : Decode(text, user);
        string host;
        string? portText = null;
        if (hostPort.StartsWith('['))
        {
            int close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw Invalid(text, "an IPv6 address opened with '[' has no ']'");
            }

            host = hostPort[1..close];
            string after = hostPort[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':')
                {
                    throw Invalid(text, "only ':port' may follow an IPv6 address in brackets");
                }

                portText = after[1..];
            }
        }
        else
        {
            int colon = hostPort.LastIndexOf(':');
            host = colon < 0 ? hostPort : hostPort[..colon];
            portText = colon < 0 ? null : hostPort[(colon + 1)..];
            host = Decode(text, host);
        }

        int? port = null;
        if (portText is not null)
        {
            if (portText.Length == 0 || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value is < 1 or > 65535)
            {
                throw Invalid(text, $"'{portText}' is not a port (1 to 65535)");
            }

            port = value;
        }

        // ssh://host/abs/path names /abs/path; ssh://host (no path) and ssh://host/~/dir name the login directory and below it.
        if (path.StartsWith("/~/", StringComparison.Ordinal))
        {
            path = path[3..];
        }
        else if (path == "/~")
        {
            path = string.Empty;
        }

        return new RemotePath(new SshEndpoint(CheckHost(text, host), user, port), path);
    }

    private static (string? User, string Host) SplitUser(string text, string authority)
    {
        int at = authority.LastIndexOf('@');
        if (at < 0)
        {
            return (null, authority);
        }

        if (at == 0)
        {
            throw Invalid(text, "the user name before '@' is empty");
        }

        return (authority[..at], authority[(at + 1)..]);
    }

    private static string CheckHost(string text, string host)
    {
        if (host.Length == 0)
        {
            throw Invalid(text, "the host name is empty");
        }

        foreach (char c in host)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or '@' or '[' or ']')
            {
                throw Invalid(text, $"the host name '{host}' contains '{c}'");
            }
        }

        if (host.StartsWith('-'))
        {
            // It would reach an external ssh client as an option.
            throw Invalid(text, $"the host name '{host}' starts with '-'");
        }

        return host;
    }

    private static string Decode(string text, string part)
    {
        if (!part.Contains('%', StringComparison.Ordinal))
        {
            return part;
        }

        byte[] bytes = new byte[Encoding.UTF8.GetMaxByteCount(part.Length)];
        int length = 0;
        for (int i = 0; i < part.Length; i++)
        {
            char c = part[i];
            if (c == '%')
            {
                if (i + 2 >= part.Length || !byte.TryParse(part.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte value))
                {
                    throw Invalid(text, "a '%' is not followed by two hexadecimal digits");
                }

                bytes[length++] = value;
                i += 2;
            }
            else
            {
                // A run of plain characters at once, so that surrogate pairs stay together.
                int end = part.IndexOf('%', i);
                end = end < 0 ? part.Length : end;
                length += Encoding.UTF8.GetBytes(part.AsSpan(i, end - i), bytes.AsSpan(length));
                i = end - 1;
            }
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            throw Invalid(text, "the percent-encoded bytes are not UTF-8");
        }
    }

    private static SyncException Invalid(string text, string why) =>
        new(ErrorIds.InvalidRemotePath, SyncErrorKind.InvalidArgument, $"'{text}' is not a valid remote path: {why}.", text);
}
