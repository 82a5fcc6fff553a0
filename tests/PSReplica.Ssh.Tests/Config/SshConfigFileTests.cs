using System;
using System.IO;

namespace PSReplica.Ssh.Tests;

public sealed class SshConfigFileTests : IDisposable
{
    private static readonly string s_home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reads_KexAlgorithms_and_Ciphers_as_written_first_value_winning()
    {
        SshConfigFile config = SshConfigFile.Parse("""
            Host pq
              KexAlgorithms ^sntrup761x25519-sha512@openssh.com
            Host *
              KexAlgorithms=-ecdh-sha2-*
              Ciphers "aes256-gcm@openssh.com,aes128-ctr"
            """);
        SshHostConfig pq = config.Resolve("pq");
        Assert.Equal("^sntrup761x25519-sha512@openssh.com", pq.KexAlgorithms);
        Assert.Equal("aes256-gcm@openssh.com,aes128-ctr", pq.Ciphers);
        Assert.Equal("-ecdh-sha2-*", config.Resolve("other").KexAlgorithms);
        Assert.Null(SshConfigFile.Parse("Host x\n  User y\n").Resolve("x").KexAlgorithms);
    }

    [Fact]
    public void Resolves_an_alias_with_first_value_winning()
    {
        SshConfigFile config = SshConfigFile.Parse("""
            # personal
            Host home nas
              HostName 192.168.1.10
              User alice
              Port 2222
              IdentityFile ~/.ssh/id_home

            Host *
              User nobody
              Port 22
              IdentityFile ~/.ssh/id_ed25519
            """);
        SshHostConfig home = config.Resolve("home");
        Assert.Equal("192.168.1.10", home.HostName);
        Assert.Equal("alice", home.User);
        Assert.Equal(2222, home.Port);
        Assert.Equal([Path.Combine(s_home, ".ssh/id_home"), Path.Combine(s_home, ".ssh/id_ed25519")], home.IdentityFiles);

        SshHostConfig other = config.Resolve("elsewhere");
        Assert.Null(other.HostName);
        Assert.Equal("nobody", other.User);
        Assert.Equal(22, other.Port);
        Assert.Equal("192.168.1.10", config.Resolve("nas").HostName);
    }

    [Fact]
    public void Keywords_ignore_case_and_accept_equals_and_quotes()
    {
        SshConfigFile config = SshConfigFile.Parse("""
            HOST box
            hostname=box.example.org
            USER = "bob smith"
            port   =2200
            IdentityFile "/keys/my key"
            """);
        SshHostConfig box = config.Resolve("box");
        Assert.Equal("box.example.org", box.HostName);
        Assert.Equal("bob smith", box.User);
        Assert.Equal(2200, box.Port);
        Assert.Equal(["/keys/my key"], box.IdentityFiles);
    }

    [Fact]
    public void Patterns_wildcards_and_negations_select_blocks()
    {
        SshConfigFile config = SshConfigFile.Parse("""
            Host *.corp !bastion.corp
              User employee
            Host web?
              Port 8022
            Host bastion.corp
              User admin
            """);
        Assert.Equal("employee", config.Resolve("db.corp").User);
        Assert.Equal("admin", config.Resolve("bastion.corp").User);
        Assert.Equal(8022, config.Resolve("web1").Port);
        Assert.Null(config.Resolve("web10").Port);
    }

    [Fact]
    public void Match_blocks_are_skipped_until_the_next_Host()
    {
        SshConfigFile config = SshConfigFile.Parse("""
            Match host box exec "false"
              User fromMatch
              Port 1
            Host box
              User fromHost
            """);
        SshHostConfig box = config.Resolve("box");
        Assert.Equal("fromHost", box.User);
        Assert.Null(box.Port);
    }

    [Fact]
    public void Settings_before_any_Host_apply_to_every_host()
    {
        SshConfigFile config = SshConfigFile.Parse("User everyone\nHost x\n  User onlyx\n");
        Assert.Equal("everyone", config.Resolve("x").User);
    }

    [Fact]
    public void Tokens_in_IdentityFile_and_HostName_are_expanded()
    {
        SshConfigFile config = SshConfigFile.Parse("""
            Host srv
              HostName %h.example.org
              User deploy
              Port 2022
              IdentityFile %d/keys/%r@%h-%p
              IdentityFile ~/.ssh/%u_%n%%
            """);
        SshHostConfig srv = config.Resolve("srv");
        Assert.Equal("srv.example.org", srv.HostName);
        Assert.Equal([s_home + "/keys/deploy@srv.example.org-2022", Path.Combine(s_home, ".ssh", Environment.UserName + "_srv%")], srv.IdentityFiles);
    }

    [Fact]
    public void An_unknown_token_or_a_bad_port_is_SshConfigInvalid()
    {
        SyncException token = Assert.Throws<SyncException>(() => SshConfigFile.Parse("IdentityFile ~/%C").Resolve("x"));
        Assert.Equal(ErrorIds.SshConfigInvalid, token.ErrorId);
        SyncException port = Assert.Throws<SyncException>(() => SshConfigFile.Parse("Host x\nPort twenty").Resolve("x"));
        Assert.Equal(ErrorIds.SshConfigInvalid, port.ErrorId);
        Assert.Contains(":2:", port.Message, StringComparison.Ordinal);
        Assert.Throws<SyncException>(() => SshConfigFile.Parse("User \"unclosed"));
        Assert.Throws<SyncException>(() => SshConfigFile.Parse("Host"));
    }

    [Fact]
    public void Proxy_settings_are_reported_so_that_the_caller_can_refuse_or_use_ssh()
    {
        SshConfigFile config = SshConfigFile.Parse("Host inner\n ProxyJump bastion\nHost cmd\n ProxyCommand nc -X 5 %h %p\nHost plain\n ProxyJump none");
        Assert.Equal("bastion", config.Resolve("inner").ProxyJump);
        Assert.Equal("nc -X 5 %h %p", config.Resolve("cmd").ProxyCommand);
        Assert.Null(config.Resolve("plain").ProxyJump);
    }

    [Fact]
    public void Include_reads_other_files_with_globs_inside_the_enclosing_block()
    {
        string conf = _dir.Combine("conf.d");
        Directory.CreateDirectory(conf);
        File.WriteAllText(Path.Combine(conf, "10-a.conf"), "Host a\n  HostName a.example.org\n");
        File.WriteAllText(Path.Combine(conf, "20-b.conf"), "Host b\n  HostName b.example.org\n");
        File.WriteAllText(_dir.Combine("scoped"), "User scopeduser\n");
        string main = _dir.Combine("config");
        File.WriteAllText(main, $"Include {conf}/*.conf\nHost only\n  Include {_dir.Combine("scoped")}\n");
        SshConfigFile config = SshConfigFile.Load(main);
        Assert.Equal("a.example.org", config.Resolve("a").HostName);
        Assert.Equal("b.example.org", config.Resolve("b").HostName);
        Assert.Equal("scopeduser", config.Resolve("only").User);
        Assert.Null(config.Resolve("a").User);
    }

    [Fact]
    public void Include_loops_stop_with_SshConfigInvalid()
    {
        string main = _dir.Combine("config");
        File.WriteAllText(main, $"Include {main}\n");
        SyncException ex = Assert.Throws<SyncException>(() => SshConfigFile.Load(main));
        Assert.Equal(ErrorIds.SshConfigInvalid, ex.ErrorId);
    }

    [Fact]
    public void A_missing_file_is_an_empty_configuration()
    {
        SshHostConfig resolved = SshConfigFile.Load(_dir.Combine("absent")).Resolve("x");
        Assert.Null(resolved.HostName);
        Assert.Empty(resolved.IdentityFiles);
    }
}
