using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security;

namespace PSReplica.Ssh.Tests;

[Collection(SshServerGroup.Name)]
public sealed class SshConnectorTests(TestSshServer server) : IDisposable
{
    private readonly TestSshServer _server = server;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string ServerName => $"[127.0.0.1]:{_server.Port.ToString(CultureInfo.InvariantCulture)}";

    private HostKey ServerKey => HostKey.TryParseBase64(_server.HostKeyLine.Split(' ')[1])!;

    [Fact]
    public void Connects_by_key_to_a_known_host()
    {
        using SshSession session = SshConnector.Connect(_server.Options());
        Assert.True(session.IsConnected);
        Assert.Equal(ServerKey, session.HostKey);
        Assert.False(session.HostKeyAdded);
        Assert.Equal("127.0.0.1", session.Target.Host);
        Assert.Equal(_server.User, session.Target.User);
        Assert.StartsWith("SSH-2.0-OpenSSH", session.Negotiation.ServerVersion, StringComparison.Ordinal);
        Assert.NotEmpty(session.Negotiation.KeyExchange);
        Assert.Equal(SshConnector.DefaultCiphers[0], session.Negotiation.ClientToServerCipher);
        Assert.Equal("aes128-gcm@openssh.com", session.Negotiation.ServerToClientCipher);
    }

    [Fact]
    public void An_unknown_host_is_refused_with_its_fingerprint()
    {
        string knownHosts = _dir.Combine("known_hosts");
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(WithKnownHosts(knownHosts)));
        Assert.Equal(ErrorIds.HostKeyUnknown, ex.ErrorId);
        Assert.Contains(ServerKey.Fingerprint, ex.Message, StringComparison.Ordinal);
        Assert.Contains(ServerName, ex.Message, StringComparison.Ordinal);
        Assert.Contains("ssh-ed25519", ex.Message, StringComparison.Ordinal);
        Assert.Contains("-AcceptNewHostKey", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(knownHosts));
    }

    [Fact]
    public void AcceptNewHostKey_records_the_key_and_the_next_connection_knows_it()
    {
        string knownHosts = _dir.Combine("new", ".ssh", "known_hosts");
        using (SshSession first = SshConnector.Connect(WithKnownHosts(knownHosts, acceptNew: true)))
        {
            Assert.True(first.HostKeyAdded);
        }

        Assert.Equal(HostKeyVerdict.Known, KnownHostsFile.Load(knownHosts).Check("127.0.0.1", _server.Port, ServerKey).Verdict);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(knownHosts));
        }

        using SshSession second = SshConnector.Connect(WithKnownHosts(knownHosts));
        Assert.False(second.HostKeyAdded);
        Assert.Single(File.ReadAllLines(knownHosts));
    }

    [Fact]
    public void A_changed_host_key_is_a_mismatch_even_with_AcceptNewHostKey()
    {
        string knownHosts = _dir.Combine("known_hosts");
        string otherHostKey = Tool.KeyGen(_dir.Combine("impostor"), "ed25519");
        string line = $"{ServerName} {string.Join(' ', otherHostKey.Split(' ')[..2])}\n";
        File.WriteAllText(knownHosts, line);
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(WithKnownHosts(knownHosts, acceptNew: true)));
        Assert.Equal(ErrorIds.HostKeyMismatch, ex.ErrorId);
        Assert.Contains(ServerKey.Fingerprint, ex.Message, StringComparison.Ordinal);
        Assert.Contains(HostKey.TryParseBase64(otherHostKey.Split(' ')[1])!.Fingerprint, ex.Message, StringComparison.Ordinal);
        Assert.Contains(knownHosts + ":1", ex.Message, StringComparison.Ordinal);
        Assert.Equal(line, File.ReadAllText(knownHosts));
    }

    [Fact]
    public void A_hashed_known_hosts_line_is_honoured()
    {
        string knownHosts = _dir.Combine("known_hosts");
        File.Copy(_server.KnownHostsPath, knownHosts);
        Tool.Run("ssh-keygen", "-H", "-f", knownHosts);
        Assert.StartsWith("|1|", File.ReadAllText(knownHosts), StringComparison.Ordinal);
        using SshSession session = SshConnector.Connect(WithKnownHosts(knownHosts));
        Assert.False(session.HostKeyAdded);
        Assert.Equal(ServerKey, session.HostKey);
    }

    [Fact]
    public void A_host_known_by_another_key_type_only_is_a_mismatch()
    {
        // The file knows an RSA key the server does not hold: offering ed25519 must not pass as a new host.
        string knownHosts = _dir.Combine("known_hosts");
        string rsa = Tool.KeyGen(_dir.Combine("rsa"), "rsa");
        File.WriteAllText(knownHosts, $"{ServerName} {string.Join(' ', rsa.Split(' ')[..2])}\n");
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(WithKnownHosts(knownHosts, acceptNew: true)));
        Assert.Equal(ErrorIds.HostKeyMismatch, ex.ErrorId);
    }

    [Fact]
    public void Known_key_types_are_asked_for_first()
    {
        string knownHosts = _dir.Combine("known_hosts");
        string ecdsa = File.ReadAllText(Path.Combine(_server.Root, "ssh_host_ecdsa_key.pub")).Trim();
        File.WriteAllText(knownHosts, $"{ServerName} {string.Join(' ', ecdsa.Split(' ')[..2])}\n");
        using SshSession session = SshConnector.Connect(WithKnownHosts(knownHosts));
        Assert.Equal("ecdsa-sha2-nistp256", session.HostKey.KeyType);
    }

    [Fact]
    public void A_revoked_host_key_is_refused()
    {
        string knownHosts = _dir.Combine("known_hosts");
        File.WriteAllText(knownHosts, File.ReadAllText(_server.KnownHostsPath) + "@revoked * " + string.Join(' ', _server.HostKeyLine.Split(' ')[..2]) + "\n");
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(WithKnownHosts(knownHosts)));
        Assert.Equal(ErrorIds.HostKeyRevoked, ex.ErrorId);
    }

    [Fact]
    public void A_key_the_server_does_not_accept_fails_authentication()
    {
        SshConnectionOptions options = _server.Options();
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(new SshConnectionOptions
        {
            Host = options.Host, Port = options.Port, User = options.User, KnownHostsPath = options.KnownHostsPath, ConfigPath = options.ConfigPath,
            KeyFilePaths = [_server.OtherKeyPath],
        }));
        Assert.Equal(ErrorIds.SshAuthenticationFailed, ex.ErrorId);
        Assert.Contains(_server.OtherKeyPath, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_password_fails_authentication()
    {
        // No test user with a password is created on the machine: a wrong password against the current user
        // (root in CI, where sshd also refuses root passwords) exercises the password and keyboard-interactive path.
        using var password = new SecureString();
        foreach (char c in "not-the-password")
        {
            password.AppendChar(c);
        }

        SshConnectionOptions options = _server.Options();
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(new SshConnectionOptions
        {
            Host = options.Host, Port = options.Port, User = options.User, KnownHostsPath = options.KnownHostsPath, ConfigPath = options.ConfigPath,
            KeyFilePaths = [], Password = password,
        }));
        Assert.Equal(ErrorIds.SshAuthenticationFailed, ex.ErrorId);
    }

    [Fact]
    public void A_right_password_logs_in_where_the_machine_allows_a_test_user()
    {
        // As root (CI), a throw-away user with a random password proves the password path end to end; elsewhere
        // no user can be added, and the same options with a wrong password must still fail.
        (string user, string password) = TestSshServer.CanCreateUsers ? _server.CreatePasswordUser() : (_server.User, "wrong");
        SshConnectionOptions options = _server.Options();
        var withPassword = new SshConnectionOptions
        {
            Host = options.Host, Port = options.Port, User = user, KnownHostsPath = options.KnownHostsPath, ConfigPath = options.ConfigPath,
            KeyFilePaths = [], PlainPassword = password,
        };
        if (!TestSshServer.CanCreateUsers)
        {
            Assert.Equal(ErrorIds.SshAuthenticationFailed, Assert.Throws<SyncException>(() => SshConnector.Connect(withPassword)).ErrorId);
            return;
        }

        using SshSession session = SshConnector.Connect(withPassword);
        using ICommandChannel channel = session.OpenCommand("id -un");
        channel.CloseInput();
        byte[] buffer = new byte[256];
        int read = channel.Stream.ReadAtLeast(buffer, user.Length + 1, throwOnEndOfStream: false);
        Assert.Equal(user + "\n", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
    }

    [Fact]
    public void A_closed_port_is_a_connection_failure()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        SshConnectionOptions options = _server.Options();
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(new SshConnectionOptions
        {
            Host = "127.0.0.1", Port = port, User = options.User, KeyFilePaths = options.KeyFilePaths, KnownHostsPath = options.KnownHostsPath, ConfigPath = options.ConfigPath,
        }));
        Assert.Equal(ErrorIds.SshConnectionFailed, ex.ErrorId);
        Assert.Contains("refused", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_silent_peer_is_a_connection_timeout()
    {
        // A listener that accepts and never speaks SSH.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        SshConnectionOptions options = _server.Options();
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(new SshConnectionOptions
        {
            Host = "127.0.0.1", Port = port, User = options.User, KeyFilePaths = options.KeyFilePaths, KnownHostsPath = options.KnownHostsPath, ConfigPath = options.ConfigPath,
            ConnectTimeout = TimeSpan.FromSeconds(1),
        }));
        Assert.Equal(ErrorIds.SshConnectionTimeout, ex.ErrorId);
    }

    [Fact]
    public void A_passphrase_protected_key_named_explicitly_is_SshKeyUnusable()
    {
        string key = _dir.Combine("locked");
        Tool.KeyGen(key, "ed25519", passphrase: "secret phrase");
        SshConnectionOptions options = _server.Options();
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(new SshConnectionOptions
        {
            Host = options.Host, Port = options.Port, User = options.User, KnownHostsPath = options.KnownHostsPath, ConfigPath = options.ConfigPath,
            KeyFilePaths = [key],
        }));
        Assert.Equal(ErrorIds.SshKeyUnusable, ex.ErrorId);
        Assert.Contains("passphrase", ex.Message, StringComparison.Ordinal);

        SyncException missing = Assert.Throws<SyncException>(() => SshConnector.Connect(new SshConnectionOptions
        {
            Host = options.Host, Port = options.Port, User = options.User, KnownHostsPath = options.KnownHostsPath, ConfigPath = options.ConfigPath,
            KeyFilePaths = [_dir.Combine("absent")],
        }));
        Assert.Equal(ErrorIds.SshKeyUnusable, missing.ErrorId);
    }

    [Fact]
    public void An_ssh_config_alias_supplies_host_port_user_and_key()
    {
        string config = _dir.Combine("config");
        File.WriteAllText(config, $"""
            Host testbox
              HostName 127.0.0.1
              Port {_server.Port.ToString(CultureInfo.InvariantCulture)}
              User {_server.User}
              IdentityFile {_server.UserKeyPath}
              UserKnownHostsFile {_server.KnownHostsPath}
            """);
        using SshSession session = SshConnector.Connect(new SshConnectionOptions { Host = "testbox", ConfigPath = config });
        Assert.Equal("127.0.0.1", session.Target.Host);
        Assert.Equal(_server.Port, session.Target.Port);
        Assert.Equal([_server.UserKeyPath], session.Target.KeyFiles);
        Assert.True(session.IsConnected);
    }

    [Fact]
    public void A_ProxyJump_in_the_config_is_refused_with_advice()
    {
        string config = _dir.Combine("config");
        File.WriteAllText(config, "Host inner\n  ProxyJump bastion\n");
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(new SshConnectionOptions { Host = "inner", ConfigPath = config }));
        Assert.Equal(ErrorIds.SshConnectionFailed, ex.ErrorId);
        Assert.Contains("-SshCommand", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("aes128-gcm@openssh.com")]
    [InlineData("chacha20-poly1305@openssh.com")]
    [InlineData("aes128-ctr")]
    public void A_cipher_preference_is_negotiated(string cipher)
    {
        SshConnectionOptions options = _server.Options();
        using SshSession session = SshConnector.Connect(new SshConnectionOptions
        {
            Host = options.Host, Port = options.Port, User = options.User, KeyFilePaths = options.KeyFilePaths, KnownHostsPath = options.KnownHostsPath, ConfigPath = options.ConfigPath,
            Ciphers = [cipher],
        });
        Assert.Equal(cipher, session.Negotiation.ClientToServerCipher);
        Assert.Equal(cipher, session.Negotiation.ServerToClientCipher);
    }

    [Fact]
    public void The_default_key_exchange_is_not_the_slow_managed_sntrup761()
    {
        // OpenSSH 9.2 offers sntrup761x25519 first; PSReplica's order (DefaultKeyExchanges) picks a fast exchange.
        using SshSession session = SshConnector.Connect(_server.Options());
        Assert.Contains(session.Negotiation.KeyExchange, (string[])["mlkem768x25519-sha256", "curve25519-sha256"]);
    }

    [Theory]
    [InlineData("^sntrup761x25519-sha512@openssh.com", "sntrup761x25519-sha512")]
    [InlineData("-mlkem*,curve25519*", "sntrup761x25519-sha512")]
    [InlineData("ecdh-sha2-nistp384,ecdh-sha2-nistp256", "ecdh-sha2-nistp384")]
    public void The_ssh_configs_KexAlgorithms_is_applied(string list, string expected)
    {
        using SshSession session = SshConnector.Connect(WithConfig($"Host 127.0.0.1\n  KexAlgorithms {list}\n"));
        Assert.StartsWith(expected, session.Negotiation.KeyExchange, StringComparison.Ordinal);
    }

    [Fact]
    public void The_ssh_configs_Ciphers_list_is_all_that_is_offered()
    {
        using SshSession session = SshConnector.Connect(WithConfig("Host 127.0.0.1\n  Ciphers aes256-ctr,no-such-cipher\n"));
        Assert.Equal("aes256-ctr", session.Negotiation.ClientToServerCipher);
        Assert.Equal("aes256-ctr", session.Negotiation.ServerToClientCipher);
    }

    [Fact]
    public void A_KexAlgorithms_list_with_nothing_supported_fails_before_connecting()
    {
        SyncException ex = Assert.Throws<SyncException>(() => SshConnector.Connect(WithConfig("Host 127.0.0.1\n  KexAlgorithms no-such-kex\n")));
        Assert.Equal(ErrorIds.SshConfigInvalid, ex.ErrorId);
        Assert.Contains("no-such-kex", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_exchange_preference_overrides_the_config()
    {
        SshConnectionOptions options = WithConfig("Host 127.0.0.1\n  KexAlgorithms curve25519-sha256\n");
        using SshSession session = SshConnector.Connect(new SshConnectionOptions
        {
            Host = options.Host, Port = options.Port, User = options.User, KeyFilePaths = options.KeyFilePaths, KnownHostsPath = options.KnownHostsPath, ConfigPath = options.ConfigPath,
            KeyExchanges = ["ecdh-sha2-nistp256"],
        });
        Assert.Equal("ecdh-sha2-nistp256", session.Negotiation.KeyExchange);
    }

    private SshConnectionOptions WithConfig(string text)
    {
        string config = _dir.Combine("config-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(config, text);
        SshConnectionOptions options = _server.Options();
        return new SshConnectionOptions
        {
            Host = options.Host, Port = options.Port, User = options.User, KeyFilePaths = options.KeyFilePaths, KnownHostsPath = options.KnownHostsPath,
            ConfigPath = config,
        };
    }

    private SshConnectionOptions WithKnownHosts(string knownHosts, bool acceptNew = false)
    {
        SshConnectionOptions options = _server.Options();
        return new SshConnectionOptions
        {
            Host = options.Host, Port = options.Port, User = options.User, KeyFilePaths = options.KeyFilePaths, ConfigPath = options.ConfigPath,
            KnownHostsPath = knownHosts, AcceptNewHostKey = acceptNew,
        };
    }
}
