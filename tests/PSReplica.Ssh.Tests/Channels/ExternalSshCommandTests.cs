using System;
using System.Threading.Tasks;

namespace PSReplica.Ssh.Tests;

[Collection(SshServerGroup.Name)]
public sealed class ExternalSshCommandTests(TestSshServer server) : IDisposable
{
    private readonly TestSshServer _server = server;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private ExternalSshOptions Options(string? knownHosts = null, string? key = null) => new()
    {
        Host = _server.Host,
        Port = _server.Port,
        User = _server.User,
        Arguments =
        [
            "-F", _server.EmptyConfigPath,
            "-o", "BatchMode=yes",
            "-o", "UserKnownHostsFile=" + (knownHosts ?? _server.KnownHostsPath),
            "-o", "StrictHostKeyChecking=yes",
            "-o", "IdentitiesOnly=yes",
            "-i", key ?? _server.UserKeyPath,
        ],
    };

    [Fact]
    public async Task Cat_through_the_system_ssh_returns_the_bytes_exactly()
    {
        byte[] data = new byte[3 * 1024 * 1024 + 77];
        new Random(3).NextBytes(data);
        using ExternalSshCommand channel = ExternalSshCommand.Start(Options(), "cat");
        byte[] received = ChannelRoundTrip.Run(channel, data);
        Assert.True(data.AsSpan().SequenceEqual(received), $"the bytes differ ({received.Length} of {data.Length}): {channel.StandardError}");
        Assert.Equal(0, await channel.WaitForExitAsync());
    }

    [Fact]
    public async Task The_pipes_to_the_client_hold_a_megabyte()
    {
        // The write-behind pump hands the client up to a megabyte at a time; a 64 KiB pipe splits that into many turns.
        using ExternalSshCommand channel = ExternalSshCommand.Start(Options(), "cat");
        (int input, int output) = channel.PipeSizes();
        Assert.Equal(ExternalSshCommand.PipeBytes, input);
        Assert.Equal(ExternalSshCommand.PipeBytes, output);
        channel.CloseInput();
        Assert.Equal(0, channel.Stream.Read(new byte[8]));
        Assert.Equal(0, await channel.WaitForExitAsync());
    }

    [Fact]
    public async Task The_remote_exit_status_comes_back()
    {
        using ExternalSshCommand channel = ExternalSshCommand.Start(Options(), "echo hi >&2; exit 4");
        channel.CloseInput();
        Assert.Equal(0, channel.Stream.Read(new byte[8]));
        Assert.Equal(4, await channel.WaitForExitAsync());
        Assert.Contains("hi", channel.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ssh_failures_map_to_the_ids_of_the_built_in_client()
    {
        using (ExternalSshCommand unknown = ExternalSshCommand.Start(Options(knownHosts: _dir.Combine("empty_known_hosts")), "true"))
        {
            SyncException ex = await Assert.ThrowsAsync<SyncException>(() => unknown.WaitForExitAsync());
            Assert.Equal(ErrorIds.HostKeyUnknown, ex.ErrorId);
        }

        using (ExternalSshCommand denied = ExternalSshCommand.Start(Options(key: _server.OtherKeyPath), "true"))
        {
            SyncException ex = await Assert.ThrowsAsync<SyncException>(() => denied.WaitForExitAsync());
            Assert.Equal(ErrorIds.SshAuthenticationFailed, ex.ErrorId);
        }
    }

    [Fact]
    public void A_connection_killed_mid_transfer_is_an_error_not_an_end()
    {
        using ExternalSshCommand channel = ExternalSshCommand.Start(Options(), "head -c 1000000000 /dev/zero");
        byte[] buffer = new byte[64 * 1024];
        Assert.Equal(buffer.Length, channel.Stream.ReadAtLeast(buffer, buffer.Length));
        Assert.True(_server.KillConnections() > 0, "no sshd session process was found");
        SyncException ex = Assert.Throws<SyncException>(() =>
        {
            while (channel.Stream.Read(buffer) > 0)
            {
            }
        });
        Assert.Equal(ErrorIds.SshConnectionFailed, ex.ErrorId);
    }

    [Fact]
    public void Idle_timeouts_apply_to_reads_and_writes()
    {
        ExternalSshOptions options = Options();
        var quick = new ExternalSshOptions { Host = options.Host, Port = options.Port, User = options.User, Arguments = options.Arguments, IdleTimeout = TimeSpan.FromMilliseconds(700) };
        using (ExternalSshCommand reader = ExternalSshCommand.Start(quick, "sleep 60"))
        {
            SyncException ex = Assert.Throws<SyncException>(() => reader.Stream.Read(new byte[16]));
            Assert.Equal(ErrorIds.SshConnectionTimeout, ex.ErrorId);
        }

        using ExternalSshCommand writer = ExternalSshCommand.Start(quick, "sleep 60");
        byte[] chunk = new byte[256 * 1024];
        SyncException stalled = Assert.Throws<SyncException>(() =>
        {
            for (int i = 0; i < 4096; i++)
            {
                writer.Stream.Write(chunk);
            }
        });
        Assert.Equal(ErrorIds.SshConnectionTimeout, stalled.ErrorId);
    }

    [Fact]
    public void A_missing_client_is_SshCommandFailed()
    {
        SyncException ex = Assert.Throws<SyncException>(() => ExternalSshCommand.Start(new ExternalSshOptions { Host = "h", CommandLine = _dir.Combine("no-such-ssh") }, "true"));
        Assert.Equal(ErrorIds.SshCommandFailed, ex.ErrorId);
    }

    [Fact]
    public void The_command_line_is_built_as_rsync_builds_it()
    {
        var options = new ExternalSshOptions
        {
            Host = "box", Port = 2222, User = "me", CommandLine = "ssh -i '/keys/my key' -o \"Compression no\" -x", Arguments = ["-o", "BatchMode=yes"],
        };
        Assert.Equal(
            ["ssh", "-i", "/keys/my key", "-o", "Compression no", "-x", "-p", "2222", "-l", "me", "-o", "BatchMode=yes", "box", "psreplica-agent --serve"],
            ExternalSshCommand.BuildCommandLine(options, "psreplica-agent --serve"));
        Assert.Throws<SyncException>(() => ExternalSshCommand.BuildCommandLine(new ExternalSshOptions { Host = "-oProxyCommand=x" }, "true"));
        Assert.Throws<SyncException>(() => RemoteShell.SplitCommandLine("ssh 'open"));
        Assert.Throws<SyncException>(() => RemoteShell.SplitCommandLine("  "));
        Assert.Equal(["a b", "c\"d", "e\\f"], RemoteShell.SplitCommandLine("\"a b\" c\\\"d 'e\\f'"));
    }

    [Fact]
    public void Remote_words_are_quoted_for_a_POSIX_shell()
    {
        Assert.Equal("plain/path-1.txt", RemoteShell.Quote("plain/path-1.txt"));
        Assert.Equal("'it'\\''s here'", RemoteShell.Quote("it's here"));
        Assert.Equal("''", RemoteShell.Quote(string.Empty));
        Assert.Equal("cat '$HOME' x", RemoteShell.Join(["cat", "$HOME", "x"]));
    }
}
