using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace PSReplica.Ssh.Tests;

/// <summary>
/// OpenSSH's sshd on 127.0.0.1 at a free high port, with host keys (ed25519, ecdsa, rsa) and a user key generated
/// for this run in a temp directory, key login for the current user, and an SFTP subsystem. Stopped (kill, wait)
/// and removed on dispose (with the throw-away password user, if a test made one). Shared by the tests of a
/// collection through xunit's fixture.
/// </summary>
public sealed class TestSshServer : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly Process _sshd;
    private readonly StringBuilder _log = new();
    private (string User, string Password)? _passwordUser;

    /// <summary>The magic and mask of an aarch64 ELF executable (e_ident with any OS/ABI, e_type 2 or 3, e_machine 183),
    /// for binfmt_misc: such a file is run by qemu-aarch64.</summary>
    private const string Aarch64Elf = @"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:"
        + @"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff";

    public TestSshServer()
        : this([], [], null)
    {
    }

    private TestSshServer(string[] extraConfig, string[] hiddenDirectories, EmulatedPlatform? platform)
        : this(extraConfig, hiddenDirectories, platform, noexecCache: false)
    {
    }

    /// <param name="extraConfig">More sshd_config lines, after the defaults.</param>
    /// <param name="hiddenDirectories">Directories that sshd and its sessions see empty: sshd runs in a mount namespace of
    /// its own (unshare -m, root only) where each existing one is covered by an empty tmpfs.</param>
    /// <param name="platform">The platform the server's sessions see: `uname` reports it (a script bound over the
    /// machine's uname in sshd's mount namespace) and, with Arm64, aarch64 executables run through qemu-user (a
    /// binfmt_misc of sshd's own user namespace, so the machine's is untouched).</param>
    /// <param name="noexecCache">The sessions' ~/.cache is a file system mounted noexec (a tmpfs in sshd's mount namespace),
    /// as on servers whose /home is noexec: a program uploaded there cannot be run.</param>
    private TestSshServer(string[] extraConfig, string[] hiddenDirectories, EmulatedPlatform? platform, bool noexecCache)
    {
        User = Environment.UserName;
        foreach (string type in new[] { "ed25519", "ecdsa", "rsa" })
        {
            Tool.KeyGen(_dir.Combine("ssh_host_" + type + "_key"), type);
        }

        UserKeyPath = _dir.Combine("id_ed25519");
        File.WriteAllText(_dir.Combine("authorized_keys"), Tool.KeyGen(UserKeyPath, "ed25519") + "\n");
        OtherKeyPath = _dir.Combine("id_other");
        Tool.KeyGen(OtherKeyPath, "ed25519");

        // sshd's privilege separation needs its empty directory, owned by root and writable by root alone (a stock install
        // makes it at boot); made with its mode given, not left to the umask, which sshd refuses when it is 0.
        if (OperatingSystem.IsLinux() && Environment.UserName == "root" && !Directory.Exists("/run/sshd"))
        {
            Directory.CreateDirectory("/run/sshd",
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
                | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        Port = FreePort();
        Home = _dir.Combine("home");
        Directory.CreateDirectory(Home);
        string config = _dir.Combine("sshd_config");
        File.WriteAllText(config, string.Join('\n',
            $"Port {Port.ToString(CultureInfo.InvariantCulture)}",
            "ListenAddress 127.0.0.1",
            $"HostKey {_dir.Combine("ssh_host_ed25519_key")}",
            $"HostKey {_dir.Combine("ssh_host_ecdsa_key")}",
            $"HostKey {_dir.Combine("ssh_host_rsa_key")}",
            $"PidFile {_dir.Combine("sshd.pid")}",
            $"AuthorizedKeysFile {_dir.Combine("authorized_keys")}",
            // The temp directory lies under the world-writable /tmp, which strict modes refuse.
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "MaxStartups 100:30:200",
            "MaxSessions 50",
            "Subsystem sftp internal-sftp",
            "LogLevel VERBOSE",
            // A home of the server's own: the login shell reads no ~/.bashrc of the machine's account (on the CI image it
            // runs `pyenv init`, whose rehash lock, left by a login killed in the middle of it, makes every later
            // login wait 60 s), and whatever a session writes under $HOME stays in the temp directory.
            $"SetEnv HOME={Home}" + (platform is { Arm64: true } ? " QEMU_LD_PREFIX=/usr/aarch64-linux-gnu" : string.Empty),
            string.Join('\n', extraConfig),
            string.Empty));

        string[] sshd = ["/usr/sbin/sshd", "-D", "-e", "-f", config];
        bool isolated = hiddenDirectories.Length > 0 || platform is not null || noexecCache;
        var info = new ProcessStartInfo(isolated ? "/usr/bin/unshare" : sshd[0])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = platform is not null,
            UseShellExecute = false,
        };
        if (isolated)
        {
            // unshare makes the new namespace's mounts private: the host keeps its runtime and its uname. sshd is exec'd, so
            // the process this class kills and whose children KillConnections finds is sshd itself. An emulated platform
            // also gets a user namespace (identity-mapped by this process once the shell says it is ready), whose own
            // binfmt_misc instance takes the qemu registration.
            string script = "if [ -n \"$PSR_WAIT\" ]; then echo ready; read -r _ || exit 1; fi; "
                + "for d in \"$@\"; do if [ -d \"$d\" ]; then mount -t tmpfs -o size=1m tmpfs \"$d\" || exit 1; fi; done; "
                + "if [ -n \"$PSR_NOEXEC\" ]; then mkdir -p \"$PSR_NOEXEC\" && mount -t tmpfs -o noexec,size=64m tmpfs \"$PSR_NOEXEC\" || exit 1; fi; "
                + "if [ -n \"$PSR_UNAME\" ]; then mount --bind \"$PSR_UNAME\" /usr/bin/uname || exit 1; fi; "
                + "if [ -n \"$PSR_BINFMT\" ]; then mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && cat \"$PSR_BINFMT\" > /proc/sys/fs/binfmt_misc/register || exit 1; fi; "
                + "unset PSR_WAIT PSR_NOEXEC PSR_UNAME PSR_BINFMT; exec " + string.Join(' ', sshd);
            string[] arguments = platform is null ? ["-m", "sh", "-c", script, "sh"] : ["-U", "-m", "--propagation", "private", "sh", "-c", script, "sh"];
            foreach (string argument in arguments.Concat(hiddenDirectories))
            {
                info.ArgumentList.Add(argument);
            }

            if (noexecCache)
            {
                info.Environment["PSR_NOEXEC"] = Path.Join(Home, ".cache");
            }

            if (platform is not null)
            {
                info.Environment["PSR_WAIT"] = "1";
                info.Environment["PSR_UNAME"] = FakeUname(platform);
                if (platform.Arm64)
                {
                    string registration = _dir.Combine("binfmt-aarch64");
                    File.WriteAllText(registration, $":psreplica-aarch64:M::{Aarch64Elf}:/usr/bin/qemu-aarch64:F");
                    info.Environment["PSR_BINFMT"] = registration;
                }
            }
        }
        else
        {
            foreach (string argument in sshd[1..])
            {
                info.ArgumentList.Add(argument);
            }
        }

        _sshd = Process.Start(info) ?? throw new InvalidOperationException("Cannot start sshd.");
        _sshd.ErrorDataReceived += (_, e) =>
        {
            lock (_log)
            {
                _log.AppendLine(e.Data);
            }
        };
        _sshd.BeginErrorReadLine();
        if (platform is not null)
        {
            MapIdentity();
        }

        WaitUntilListening();

        KnownHostsPath = _dir.Combine("known_hosts");
        HostKeyLine = File.ReadAllText(_dir.Combine("ssh_host_ed25519_key.pub")).Trim();
        File.WriteAllText(KnownHostsPath, $"[127.0.0.1]:{Port.ToString(CultureInfo.InvariantCulture)} {string.Join(' ', HostKeyLine.Split(' ')[..2])}\n");
        EmptyConfigPath = _dir.Combine("ssh_config");
        File.WriteAllText(EmptyConfigPath, string.Empty);
    }

    /// <summary>A server that allows SFTP only (ForceCommand internal-sftp): no command runs there, so neither an installed
    /// nor a deployed agent can start, as on hosts that offer file transfer and no shell.</summary>
    public static TestSshServer SftpOnly() => new(["ForceCommand internal-sftp"], [], null);

    /// <summary>A server where no .NET runtime is reachable: the runtime's usual folders, ~/.dotnet, $DOTNET_ROOT and the
    /// folder the machine's <c>dotnet</c> resolves to are empty for sshd and every session (root only: a mount namespace).</summary>
    public static TestSshServer WithoutDotnet() => new([], DotnetDirectories(), null);

    /// <summary>The runtime's usual folders, ~/.dotnet, $DOTNET_ROOT and the folder the machine's <c>dotnet</c> resolves to.</summary>
    private static string[] DotnetDirectories()
    {
        var hidden = new List<string> { "/usr/share/dotnet", "/usr/lib/dotnet", "/usr/local/share/dotnet", "/opt/dotnet",
            Path.Join(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet") };
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root)
        {
            hidden.Add(root);
        }

        // The dotnet running these tests, through any links (/usr/bin/dotnet -> /usr/share/dotnet/dotnet).
        if (Environment.ProcessPath is { } process && Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            string resolved = new FileInfo(process).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? process;
            hidden.Add(Path.GetDirectoryName(resolved)!);
        }

        return [.. hidden.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>An arm64 server without .NET: its sessions' `uname -sm` says "Linux aarch64" and aarch64 executables run
    /// through Debian's qemu-user (binfmt_misc in sshd's own user namespace, the libraries from QEMU_LD_PREFIX), so the
    /// module's linux-arm64 native agent is the one that can serve there. Root only.</summary>
    public static TestSshServer EmulatingArm64() => new([], DotnetDirectories(), new EmulatedPlatform("Linux aarch64", Arm64: true));

    /// <summary>A server whose sessions' ~/.cache is mounted noexec, with or without .NET. Root only.</summary>
    public static TestSshServer WithNoexecCache(bool withoutDotnet) => new([], withoutDotnet ? DotnetDirectories() : [], null, noexecCache: true);

    /// <summary>A server whose sessions' `uname -sm` says <paramref name="unameSm"/> (e.g. "FreeBSD amd64", a platform no
    /// native agent is built for) and that keeps the machine's .NET. Root only.</summary>
    public static TestSshServer Reporting(string unameSm) => new([], [], new EmulatedPlatform(unameSm, Arm64: false));

    public string Host { get; } = "127.0.0.1";

    public int Port { get; }

    public string User { get; }

    /// <summary>The key authorized for <see cref="User"/>.</summary>
    public string UserKeyPath { get; }

    /// <summary>A key the server does not accept.</summary>
    public string OtherKeyPath { get; }

    /// <summary>A known_hosts file that records the server's ed25519 key.</summary>
    public string KnownHostsPath { get; }

    /// <summary>The server's ed25519 public key line (type, base64, comment).</summary>
    public string HostKeyLine { get; }

    /// <summary>An empty ssh config, so that the runner's ~/.ssh/config cannot change what tests see.</summary>
    public string EmptyConfigPath { get; }

    public string Root => _dir.Path;

    /// <summary>Where this process finds <paramref name="path"/> as the server's sessions see it: through sshd's root in
    /// /proc, which shows the mounts of its namespace (a noexec ~/.cache, say), not this process's.</summary>
    public string SessionView(string path) => "/proc/" + _sshd.Id.ToString(CultureInfo.InvariantCulture) + "/root" + Path.GetFullPath(path);

    /// <summary>The HOME of every session on this server (a directory under <see cref="Root"/>).</summary>
    public string Home { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Options that log in by key and trust the server through <see cref="KnownHostsPath"/>.</summary>
    public SshConnectionOptions Options(TimeSpan? idleTimeout = null) => new()
    {
        Host = Host,
        Port = Port,
        User = User,
        KeyFilePaths = [UserKeyPath],
        KnownHostsPath = KnownHostsPath,
        ConfigPath = EmptyConfigPath,
        ConnectTimeout = TimeSpan.FromSeconds(20),
        IdleTimeout = idleTimeout ?? System.Threading.Timeout.InfiniteTimeSpan,
    };

    /// <summary>Whether <see cref="CreatePasswordUser"/> can work: only root may add a system user.</summary>
    public static bool CanCreateUsers => Environment.UserName == "root" && File.Exists("/usr/sbin/useradd");

    /// <summary>
    /// Adds a system user with a random password (no home directory, removed again on dispose), for the one test
    /// that must see a password accepted. Only as root (CI runs as root).
    /// </summary>
    public (string User, string Password) CreatePasswordUser()
    {
        if (_passwordUser is not null)
        {
            return _passwordUser.Value;
        }

        string name = "psreplica-t" + Guid.NewGuid().ToString("N")[..6];
        string password = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));
        Tool.Run("/usr/sbin/useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/bin/sh", name);
        _passwordUser = (name, password);
        var info = new ProcessStartInfo("/usr/sbin/chpasswd") { RedirectStandardInput = true, UseShellExecute = false };
        using Process chpasswd = Process.Start(info)!;
        chpasswd.StandardInput.Write($"{name}:{password}\n");
        chpasswd.StandardInput.Close();
        chpasswd.WaitForExit();
        if (chpasswd.ExitCode != 0)
        {
            throw new InvalidOperationException($"chpasswd exited with {chpasswd.ExitCode}");
        }

        return _passwordUser.Value;
    }

    /// <summary>
    /// Kills the per-connection processes of this sshd (its children), as a dropped network would end the
    /// sessions; the listener stays up for the next test.
    /// </summary>
    public int KillConnections()
    {
        int killed = 0;
        foreach (string status in System.IO.Directory.GetFiles("/proc", "status", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 1, IgnoreInaccessible = true }))
        {
            string? parent = null;
            try
            {
                foreach (string line in File.ReadLines(status))
                {
                    if (line.StartsWith("PPid:", StringComparison.Ordinal))
                    {
                        parent = line[5..].Trim();
                        break;
                    }
                }
            }
            catch (IOException)
            {
                continue;
            }

            if (parent != _sshd.Id.ToString(CultureInfo.InvariantCulture)
                || !int.TryParse(Path.GetFileName(Path.GetDirectoryName(status)), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                using Process child = Process.GetProcessById(pid);
                child.Kill(entireProcessTree: true);
                child.WaitForExit();
                killed++;
            }
            catch (ArgumentException)
            {
                // Gone already.
            }
        }

        return killed;
    }

    public void Dispose()
    {
        try
        {
            if (!_sshd.HasExited)
            {
                _sshd.Kill(entireProcessTree: true);
            }

            _sshd.WaitForExit();
        }
        finally
        {
            _sshd.Dispose();
            _dir.Dispose();
            if (_passwordUser is (string user, _))
            {
                Tool.Run("/usr/sbin/userdel", user);
            }
        }
    }

    /// <summary>A uname that reports <paramref name="platform"/> for -s, -m and -sm and leaves every other question to a
    /// copy of the machine's uname.</summary>
    private string FakeUname(EmulatedPlatform platform)
    {
        string real = _dir.Combine("uname.real");
        File.Copy("/usr/bin/uname", real);
        string[] fields = platform.UnameSm.Split(' ');
        string fake = _dir.Combine("uname");
        File.WriteAllText(fake, "#!/bin/sh\ncase \"$*\" in\n"
            + $"  -sm|'-s -m'|'-m -s') echo '{platform.UnameSm}';;\n  -s) echo '{fields[0]}';;\n  -m) echo '{fields[1]}';;\n"
            + $"  *) exec '{real}' \"$@\";;\nesac\n");
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("An emulated platform needs Linux namespaces.");
        }

        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return fake;
    }

    /// <summary>Maps every user and group id of the new user namespace to itself (unshare of util-linux 2.38 would need
    /// newuidmap for more than one id), then lets its shell go on: sshd needs its privilege-separation user there.</summary>
    private void MapIdentity()
    {
        string? ready = _sshd.StandardOutput.ReadLine();
        if (ready != "ready")
        {
            _sshd.WaitForExit();
            throw new InvalidOperationException($"The namespace for sshd did not start ({ready}): {Log}");
        }

        string pid = _sshd.Id.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText($"/proc/{pid}/uid_map", "0 0 4294967295\n");
        File.WriteAllText($"/proc/{pid}/gid_map", "0 0 4294967295\n");
        _sshd.StandardInput.WriteLine("go");
        _sshd.StandardInput.Close();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Polls until sshd answers with its identification line (readiness, not a timed sleep).</summary>
    private void WaitUntilListening()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_sshd.HasExited)
            {
                // HasExited does not wait for the stderr reader; without this the message often lacked sshd's reason.
                _sshd.WaitForExit();
                throw new InvalidOperationException($"sshd exited with {_sshd.ExitCode}: {Log}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                client.ReceiveTimeout = 5000;
                byte[] banner = new byte[8];
                int read = client.GetStream().ReadAtLeast(banner, 4, throwOnEndOfStream: false);
                if (read >= 4 && Encoding.ASCII.GetString(banner, 0, 4) == "SSH-")
                {
                    return;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }
            catch (IOException)
            {
                // Accepted and dropped while starting.
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException($"sshd did not listen on port {Port} within 30 s: {Log}");
    }
}

/// <summary>What a test server's sessions see as their platform.</summary>
internal sealed record EmulatedPlatform(string UnameSm, bool Arm64);
