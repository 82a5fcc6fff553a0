using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace PSReplica.Ssh;

/// <summary>Opens verified, authenticated SSH connections through SSH.NET.</summary>
public static class SshConnector
{
    /// <summary>
    /// The cipher order PSReplica asks for unless told otherwise: the fastest first, as measured against OpenSSH's
    /// sshd by tests/Benchmarks/Measure-SshTransport.ps1 (tests/Benchmarks/README.md). SSH.NET's own order starts
    /// with aes128-ctr (plus hmac-sha2-256), which moved data at about half the rate of AES-GCM, whose MAC is built
    /// in and runs on the CPU's AES instructions; SSH.NET's chacha20-poly1305 was the slowest.
    /// </summary>
    public static IReadOnlyList<string> DefaultCiphers { get; } =
        ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr", "chacha20-poly1305@openssh.com"];

    /// <summary>
    /// The key exchange order PSReplica asks for unless told otherwise (by <see cref="SshConnectionOptions.KeyExchanges"/>
    /// or the ssh config's KexAlgorithms). The post-quantum hybrid mlkem768x25519-sha256 (OpenSSH 9.9 and later) comes
    /// first, then curve25519-sha256, then sntrup761x25519-sha512 (OpenSSH 8.5 to 9.8's post-quantum choice). SSH.NET
    /// computes sntrup761 in managed code (BouncyCastle's NTRU Prime): measured against OpenSSH 9.2 here, it took 175 ms
    /// of CPU per connection where curve25519 took 17 ms, on the critical path of every run (the same library generates an
    /// ML-KEM-768 key pair in about 1.2 ms, so mlkem768x25519 costs little more than curve25519). A user who wants the
    /// post-quantum exchange with such a server puts it first: <c>KexAlgorithms ^sntrup761x25519-sha512@openssh.com</c>
    /// in ~/.ssh/config. The rest follow in SSH.NET's order.
    /// </summary>
    public static IReadOnlyList<string> DefaultKeyExchanges { get; } =
        ["mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com",
         "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521"];

    private static readonly string[] s_defaultKeyNames = ["id_ed25519", "id_ecdsa", "id_rsa"];

    /// <summary>Resolves the options against the ssh config into what a connection will use.</summary>
    /// <exception cref="SyncException">SshConfigInvalid for a bad config file.</exception>
    public static SshTarget Resolve(SshConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Host);
        SshConfigFile config = options.ConfigPath switch
        {
            null => SshConfigFile.Load(SshConfigFile.DefaultPath),
            "" => SshConfigFile.Empty,
            string path => SshConfigFile.Load(path),
        };
        SshHostConfig host = config.Resolve(options.Host);
        string user = options.User ?? host.User ?? Environment.UserName;
        int port = options.Port ?? host.Port ?? 22;
        bool explicitKeys = options.KeyFilePaths is not null;
        IReadOnlyList<string> keys;
        if (options.KeyFilePaths is not null)
        {
            var list = new List<string>();
            foreach (string path in options.KeyFilePaths)
            {
                list.Add(SshConfigFile.ExpandPath(path));
            }

            keys = list;
        }
        else if (host.IdentityFiles.Count > 0)
        {
            // As ssh does, config identities that do not exist are passed over.
            var list = new List<string>();
            foreach (string path in host.IdentityFiles)
            {
                if (File.Exists(path))
                {
                    list.Add(path);
                }
            }

            keys = list;
        }
        else
        {
            var list = new List<string>();
            string directory = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh");
            foreach (string name in s_defaultKeyNames)
            {
                string path = Path.Combine(directory, name);
                if (File.Exists(path))
                {
                    list.Add(path);
                }
            }

            keys = list;
        }

        string knownHosts = options.KnownHostsPath is not null
            ? SshConfigFile.ExpandPath(options.KnownHostsPath)
            : host.UserKnownHostsFile ?? KnownHostsFile.DefaultPath;
        return new SshTarget(options.Host, host.HostName ?? options.Host, port, user, keys, explicitKeys, knownHosts, host.ProxyJump, host.ProxyCommand,
            host.KexAlgorithms, host.Ciphers);
    }

    /// <summary>
    /// Connects, verifies the host key against known_hosts and logs in.
    /// </summary>
    /// <exception cref="SyncException">
    /// HostKeyUnknown, HostKeyMismatch, HostKeyRevoked, KnownHostsUnwritable, SshKeyUnusable, SshAuthenticationFailed,
    /// SshConnectionFailed, SshConnectionTimeout, SshConfigInvalid.
    /// </exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static SshSession Connect(SshConnectionOptions options, CancellationToken cancellationToken = default)
    {
        SshTarget target = Resolve(options);
        if (target.ProxyJump is not null || target.ProxyCommand is not null)
        {
            throw new SyncException(ErrorIds.SshConnectionFailed, SyncErrorKind.InvalidOperation,
                $"The ssh config reaches {target.Alias} through {(target.ProxyJump is not null ? "ProxyJump " + target.ProxyJump : "ProxyCommand")}, which the built-in SSH client cannot follow; use -SshCommand ssh to connect through the system's ssh client.",
                target.Alias);
        }

        var keySources = new List<IPrivateKeySource>();
        var skipped = new List<string>();
        try
        {
            LoadKeys(target, keySources, skipped);
            ConnectionInfo info = BuildConnectionInfo(options, target, keySources);

            // The session keeps the keys: an SFTP client logs in again with them.
            return Open(info, options, target, skipped, keySources, cancellationToken);
        }
        catch
        {
            DisposeKeys(keySources);
            throw;
        }
    }

    internal static void DisposeKeys(List<IPrivateKeySource> keys)
    {
        foreach (IPrivateKeySource key in keys)
        {
            (key as IDisposable)?.Dispose();
        }

        keys.Clear();
    }

    internal static ConnectionInfo BuildConnectionInfo(SshConnectionOptions options, SshTarget target, List<IPrivateKeySource> keys)
    {
        var methods = new List<AuthenticationMethod>();
        if (keys.Count > 0)
        {
            methods.Add(new PrivateKeyAuthenticationMethod(target.User, [.. keys]));
        }

        string? password = PasswordText(options);
        if (password is not null)
        {
            methods.Add(new PasswordAuthenticationMethod(target.User, password));
            var interactive = new KeyboardInteractiveAuthenticationMethod(target.User);
            interactive.AuthenticationPrompt += (_, e) =>
            {
                // Answer the password prompt only; anything else (a one-time code) gets no answer and fails.
                foreach (AuthenticationPrompt prompt in e.Prompts)
                {
                    if (!prompt.IsEchoed && prompt.Request.Contains("password", StringComparison.OrdinalIgnoreCase))
                    {
                        prompt.Response = password;
                    }
                }
            };
            methods.Add(interactive);
        }

        if (methods.Count == 0)
        {
            // "none" lets a server that needs nothing in; against any other it fails as authentication should.
            methods.Add(new NoneAuthenticationMethod(target.User));
        }

        var info = new ConnectionInfo(target.Host, target.Port, target.User, [.. methods])
        {
            Timeout = options.ConnectTimeout,
            // SFTP names as their bytes (NameEncoding is UTF-8 where the bytes are UTF-8): a name that is not UTF-8 is
            // listed, opened and created exactly, as the local and agent wirings do (issue 18, D3/D4).
            Encoding = PSReplica.Engine.Native.NameEncoding.Instance,
        };
        // Explicit option lists are preferences (the rest still follow); the ssh config's lists are applied as ssh applies them.
        Offer(info.Encryptions, options.Ciphers is { } ciphers ? AlgorithmList.Resolve(info.Encryptions.Keys, ciphers, null, "Ciphers")
            : AlgorithmList.Resolve(info.Encryptions.Keys, DefaultCiphers, target.Ciphers, "Ciphers"));
        Offer(info.KeyExchangeAlgorithms, options.KeyExchanges is { } exchanges ? AlgorithmList.Resolve(info.KeyExchangeAlgorithms.Keys, exchanges, null, "KexAlgorithms")
            : AlgorithmList.Resolve(info.KeyExchangeAlgorithms.Keys, DefaultKeyExchanges, target.KexAlgorithms, "KexAlgorithms"));
        OrderHostKeyAlgorithms(info, target);
        return info;
    }

    private static SshSession Open(ConnectionInfo info, SshConnectionOptions options, SshTarget target, List<string> skipped, List<IPrivateKeySource> keys, CancellationToken cancellationToken)
    {
        string where = $"{target.User}@{KnownHostsFile.HostName(target.Host, target.Port)}";
        var verifier = new HostKeyVerifier(target, options.AcceptNewHostKey);
        var client = new SshClient(info);
        client.HostKeyReceived += verifier.OnHostKeyReceived;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            client.ConnectAsync(timeout.Token).GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            client.Dispose();
            if (verifier.Failure is SyncException refused)
            {
                throw refused;
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw TranslateConnect(ex, where, target, skipped, timeout.IsCancellationRequested || ex is SshOperationTimeoutException);
        }

        return new SshSession(client, info, target, options.IdleTimeout, verifier, keys);
    }

    private static SyncException TranslateConnect(Exception ex, string where, SshTarget target, List<string> skipped, bool timedOut)
    {
        if (ex is SshAuthenticationException)
        {
            string keys = target.KeyFiles.Count == 0 ? "no key files" : "keys " + string.Join(", ", target.KeyFiles);
            string note = skipped.Count == 0 ? string.Empty : $" Skipped (passphrase-protected or unreadable): {string.Join(", ", skipped)}.";
            return new SyncException(ErrorIds.SshAuthenticationFailed, SyncErrorKind.PermissionDenied,
                $"{where}: authentication failed ({ex.Message}). Offered {keys}.{note} Give -KeyFilePath or -Credential.", where, ex);
        }

        if (timedOut || ex is OperationCanceledException)
        {
            return new SyncException(ErrorIds.SshConnectionTimeout, SyncErrorKind.ReadError,
                $"{where}: no SSH session within the connect timeout.", where, ex);
        }

        string reason = ex switch
        {
            SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused (is sshd running and listening on that port?)",
            SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } => "the host name does not resolve",
            _ => ex.Message,
        };
        return new SyncException(ErrorIds.SshConnectionFailed, SyncErrorKind.ReadError, $"{where}: cannot connect: {reason}", where, ex);
    }

    private static void LoadKeys(SshTarget target, List<IPrivateKeySource> keys, List<string> skipped)
    {
        foreach (string path in target.KeyFiles)
        {
            try
            {
                keys.Add(new PrivateKeyFile(path));
            }
            catch (Exception ex) when (ex is SshPassPhraseNullOrEmptyException or SshException or IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or InvalidOperationException)
            {
                if (!target.ExplicitKeys)
                {
                    skipped.Add(path);
                    continue;
                }

                string why = ex switch
                {
                    SshPassPhraseNullOrEmptyException => "it is protected by a passphrase, which PSReplica cannot ask for; load it into ssh-agent and use -SshCommand ssh, or use a key without passphrase",
                    FileNotFoundException or DirectoryNotFoundException => "it does not exist",
                    UnauthorizedAccessException => "it cannot be read",
                    _ => ex.Message,
                };
                throw new SyncException(ErrorIds.SshKeyUnusable, SyncErrorKind.InvalidArgument, $"The key file '{path}' cannot be used: {why}.", path, ex);
            }
        }
    }

    /// <summary>Leaves exactly <paramref name="names"/> in <paramref name="algorithms"/>, in that order.</summary>
    private static void Offer<T>(IOrderedDictionary<string, T> algorithms, List<string> names)
    {
        foreach (string name in new List<string>(algorithms.Keys))
        {
            if (!names.Contains(name))
            {
                algorithms.Remove(name);
            }
        }

        for (int position = 0; position < names.Count; position++)
        {
            algorithms.SetPosition(names[position], position);
        }
    }

    /// <summary>
    /// Puts the key types known_hosts holds for the host first, as OpenSSH does, so that a server with several host
    /// keys shows the one on record; host certificates are not supported, so they are not asked for.
    /// </summary>
    private static void OrderHostKeyAlgorithms(ConnectionInfo info, SshTarget target)
    {
        var certificates = new List<string>();
        foreach (string name in info.HostKeyAlgorithms.Keys)
        {
            if (name.Contains("-cert-", StringComparison.Ordinal))
            {
                certificates.Add(name);
            }
        }

        foreach (string name in certificates)
        {
            info.HostKeyAlgorithms.Remove(name, out _);
        }

        IReadOnlyList<string> known = KnownHostsFile.Load(target.KnownHostsPath).KnownKeyTypes(target.Host, target.Port);
        int position = 0;
        foreach (string keyType in known)
        {
            string[] algorithms = keyType == "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [keyType];
            foreach (string algorithm in algorithms)
            {
                if (info.HostKeyAlgorithms.ContainsKey(algorithm))
                {
                    info.HostKeyAlgorithms.SetPosition(algorithm, position++);
                }
            }
        }
    }

    private static string? PasswordText(SshConnectionOptions options)
    {
        if (options.Password is SecureString secure)
        {
            IntPtr pointer = Marshal.SecureStringToGlobalAllocUnicode(secure);
            try
            {
                return Marshal.PtrToStringUni(pointer);
            }
            finally
            {
                Marshal.ZeroFreeGlobalAllocUnicode(pointer);
            }
        }

        return options.PlainPassword;
    }

    /// <summary>Judges the server's key in SSH.NET's HostKeyReceived event and remembers why it refused.</summary>
    internal sealed class HostKeyVerifier(SshTarget target, bool acceptNew)
    {
        private readonly SshTarget _target = target;
        private readonly bool _acceptNew = acceptNew;

        public SyncException? Failure { get; private set; }

        public HostKey? PresentedKey { get; private set; }

        public HostKeyVerdict Verdict { get; private set; }

        public bool Added { get; private set; }

        public void OnHostKeyReceived(object? sender, HostKeyEventArgs e)
        {
            e.CanTrust = false;
            try
            {
                var key = new HostKey(e.HostKey);
                if (PresentedKey is not null)
                {
                    // A re-key must present the same key the session was verified with.
                    e.CanTrust = key.Equals(PresentedKey);
                    return;
                }

                PresentedKey = key;
                KnownHostsFile file = KnownHostsFile.Load(_target.KnownHostsPath);
                HostKeyCheck check = file.Check(_target.Host, _target.Port, key);
                Verdict = check.Verdict;
                string name = KnownHostsFile.HostName(_target.Host, _target.Port);
                switch (check.Verdict)
                {
                    case HostKeyVerdict.Known:
                        e.CanTrust = true;
                        break;
                    case HostKeyVerdict.Unknown when _acceptNew:
                        KnownHostsFile.Append(_target.KnownHostsPath, _target.Host, _target.Port, key);
                        Added = true;
                        e.CanTrust = true;
                        break;
                    case HostKeyVerdict.Unknown:
                        string ca = file.IgnoredCertAuthorityLines > 0 ? $" ({file.IgnoredCertAuthorityLines} @cert-authority line(s) in it were ignored: host certificates are not supported.)" : string.Empty;
                        Failure = new SyncException(ErrorIds.HostKeyUnknown, SyncErrorKind.PermissionDenied,
                            $"The host key of {name} is not known: {key.KeyType} {key.Fingerprint}. It is not in '{_target.KnownHostsPath}'.{ca} " +
                            "Check the fingerprint with the server's administrator (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the server), then connect once with -AcceptNewHostKey to record it.",
                            name);
                        break;
                    case HostKeyVerdict.Mismatch:
                        Failure = new SyncException(ErrorIds.HostKeyMismatch, SyncErrorKind.PermissionDenied,
                            $"WARNING: the host key of {name} has changed: it presented {key.KeyType} {key.Fingerprint}, but {check.Entry} records {check.Entry!.Key.KeyType} {check.Entry.Key.Fingerprint}. " +
                            "Someone could be intercepting the connection (man-in-the-middle), or the server's key was replaced. Nothing was sent. " +
                            $"If the change is expected, remove the old entry (ssh-keygen -R \"{name}\" -f \"{_target.KnownHostsPath}\") and connect again with -AcceptNewHostKey.",
                            name);
                        break;
                    case HostKeyVerdict.Revoked:
                        Failure = new SyncException(ErrorIds.HostKeyRevoked, SyncErrorKind.PermissionDenied,
                            $"The host key of {name} ({key.KeyType} {key.Fingerprint}) is marked @revoked in {check.Entry}; the connection was refused.",
                            name);
                        break;
                }
            }
            catch (SyncException ex)
            {
                Failure = ex;
            }
            catch (FormatException ex)
            {
                Failure = new SyncException(ErrorIds.HostKeyMismatch, SyncErrorKind.PermissionDenied,
                    $"The host key of {_target.Host} cannot be read: {ex.Message}", _target.Host, ex);
            }
        }
    }
}
