using System;
using System.IO;

namespace PSReplica.Ssh.Tests;

public sealed class KnownHostsFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly HostKey _ed25519;
    private readonly HostKey _ecdsa;
    private readonly HostKey _rsa;
    private readonly string _ed25519Line;

    public KnownHostsFileTests()
    {
        _ed25519Line = Tool.KeyGen(_dir.Combine("ed"), "ed25519");
        _ed25519 = KeyOf(_ed25519Line);
        _ecdsa = KeyOf(Tool.KeyGen(_dir.Combine("ec"), "ecdsa"));
        _rsa = KeyOf(Tool.KeyGen(_dir.Combine("rsa"), "rsa"));
    }

    public void Dispose() => _dir.Dispose();

    private static HostKey KeyOf(string publicLine) => HostKey.TryParseBase64(publicLine.Split(' ')[1])!;

    private KnownHostsFile Write(params string[] lines)
    {
        string path = _dir.Combine("known_hosts");
        File.WriteAllLines(path, lines);
        return KnownHostsFile.Load(path);
    }

    private static string Line(string hosts, HostKey key) => $"{hosts} {key.KeyType} {key.Base64}";

    [Fact]
    public void Reads_key_types_from_the_blob()
    {
        Assert.Equal("ssh-ed25519", _ed25519.KeyType);
        Assert.Equal("ecdsa-sha2-nistp256", _ecdsa.KeyType);
        Assert.Equal("ssh-rsa", _rsa.KeyType);
    }

    [Fact]
    public void Fingerprint_is_the_one_ssh_keygen_prints()
    {
        string printed = Tool.Run("ssh-keygen", "-l", "-E", "sha256", "-f", _dir.Combine("ed.pub"));
        Assert.Equal(printed.Split(' ')[1], _ed25519.Fingerprint);
        Assert.StartsWith("SHA256:", _ed25519.Fingerprint, StringComparison.Ordinal);
        Assert.DoesNotContain("=", _ed25519.Fingerprint, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_host_list_matches_each_name_on_port_22_only()
    {
        KnownHostsFile file = Write("# comment", "", Line("alpha,beta.example.org,10.0.0.1", _ed25519));
        Assert.Equal(HostKeyVerdict.Known, file.Check("alpha", 22, _ed25519).Verdict);
        Assert.Equal(HostKeyVerdict.Known, file.Check("BETA.example.org", 22, _ed25519).Verdict);
        Assert.Equal(HostKeyVerdict.Known, file.Check("10.0.0.1", 22, _ed25519).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("alpha", 2222, _ed25519).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("gamma", 22, _ed25519).Verdict);
        Assert.Equal(3, file.Check("alpha", 22, _ed25519).Entry!.LineNumber);
    }

    [Fact]
    public void Bracketed_entries_carry_the_port()
    {
        KnownHostsFile file = Write(Line("[127.0.0.1]:2222", _ecdsa));
        Assert.Equal(HostKeyVerdict.Known, file.Check("127.0.0.1", 2222, _ecdsa).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("127.0.0.1", 22, _ecdsa).Verdict);
        Assert.Equal("[h]:2222", KnownHostsFile.HostName("h", 2222));
        Assert.Equal("h", KnownHostsFile.HostName("h", 22));
    }

    [Fact]
    public void Another_key_for_a_known_host_is_a_mismatch_whatever_its_type()
    {
        KnownHostsFile file = Write(Line("alpha", _ed25519));
        HostKeyCheck sameType = file.Check("alpha", 22, KeyOf(Tool.KeyGen(_dir.Combine("ed2"), "ed25519")));
        Assert.Equal(HostKeyVerdict.Mismatch, sameType.Verdict);
        Assert.Equal(1, sameType.Entry!.LineNumber);
        Assert.Equal(HostKeyVerdict.Mismatch, file.Check("alpha", 22, _rsa).Verdict);
        Assert.Equal(["ssh-ed25519"], file.KnownKeyTypes("alpha", 22));
    }

    [Fact]
    public void Wildcards_and_negations_follow_OpenSSH()
    {
        KnownHostsFile file = Write(Line("*.example.org,!bad.example.org,web?", _rsa));
        Assert.Equal(HostKeyVerdict.Known, file.Check("a.example.org", 22, _rsa).Verdict);
        Assert.Equal(HostKeyVerdict.Known, file.Check("web1", 22, _rsa).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("web12", 22, _rsa).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("bad.example.org", 22, _rsa).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("example.org", 22, _rsa).Verdict);
    }

    [Fact]
    public void Hashed_entries_written_by_ssh_keygen_match_their_host_only()
    {
        string path = _dir.Combine("known_hosts");
        File.WriteAllLines(path, [Line("secret.example.org", _ed25519), Line("[10.1.2.3]:2200", _ecdsa)]);
        Tool.Run("ssh-keygen", "-H", "-f", path);
        KnownHostsFile file = KnownHostsFile.Load(path);
        Assert.All(file.Entries, e => Assert.True(e.IsHashed));
        Assert.DoesNotContain("secret", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.Equal(HostKeyVerdict.Known, file.Check("secret.example.org", 22, _ed25519).Verdict);
        Assert.Equal(HostKeyVerdict.Known, file.Check("10.1.2.3", 2200, _ecdsa).Verdict);
        Assert.Equal(HostKeyVerdict.Mismatch, file.Check("secret.example.org", 22, _rsa).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("other.example.org", 22, _ed25519).Verdict);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("10.1.2.3", 22, _ecdsa).Verdict);
    }

    [Fact]
    public void A_revoked_key_is_refused_even_where_another_line_knows_it()
    {
        KnownHostsFile file = Write(Line("alpha", _ed25519), "@revoked * " + _ed25519.KeyType + " " + _ed25519.Base64);
        HostKeyCheck check = file.Check("alpha", 22, _ed25519);
        Assert.Equal(HostKeyVerdict.Revoked, check.Verdict);
        Assert.Equal(KnownHostsMarker.Revoked, check.Entry!.Marker);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("beta", 22, _rsa).Verdict);
    }

    [Fact]
    public void Cert_authority_lines_are_ignored_and_counted()
    {
        KnownHostsFile file = Write("@cert-authority *.example.org " + _ed25519.KeyType + " " + _ed25519.Base64);
        Assert.Empty(file.Entries);
        Assert.Equal(1, file.IgnoredCertAuthorityLines);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("a.example.org", 22, _ed25519).Verdict);
    }

    [Fact]
    public void Malformed_lines_are_skipped()
    {
        KnownHostsFile file = Write("alpha", "alpha ssh-ed25519", "alpha ssh-ed25519 not-base64!", "alpha ssh-rsa " + _ed25519.Base64, "@weird alpha " + _ed25519.KeyType + " " + _ed25519.Base64, "|1|bad|hash ssh-ed25519 " + _ed25519.Base64, Line("beta", _ed25519));
        Assert.Single(file.Entries);
        Assert.Equal(7, file.Entries[0].LineNumber);
    }

    [Fact]
    public void A_missing_file_knows_nothing()
    {
        KnownHostsFile file = KnownHostsFile.Load(_dir.Combine("none", "known_hosts"));
        Assert.Empty(file.Entries);
        Assert.Equal(HostKeyVerdict.Unknown, file.Check("alpha", 22, _rsa).Verdict);
    }

    [Fact]
    public void Append_creates_the_directory_and_file_privately_and_the_line_is_read_back()
    {
        string path = _dir.Combine("dot-ssh", "known_hosts");
        KnownHostsFile.Append(path, "127.0.0.1", 2222, _ed25519);
        KnownHostsFile.Append(path, "alpha", 22, _rsa);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        KnownHostsFile file = KnownHostsFile.Load(path);
        Assert.Equal(HostKeyVerdict.Known, file.Check("127.0.0.1", 2222, _ed25519).Verdict);
        Assert.Equal(HostKeyVerdict.Known, file.Check("alpha", 22, _rsa).Verdict);
        Assert.Equal(["[127.0.0.1]:2222 ssh-ed25519 " + _ed25519.Base64, "alpha ssh-rsa " + _rsa.Base64], File.ReadAllLines(path));

        // ssh-keygen reads the line back as well (-F finds a host in known_hosts).
        string found = Tool.Run("ssh-keygen", "-F", "[127.0.0.1]:2222", "-f", path);
        Assert.Contains(_ed25519.Base64, found, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_adds_a_newline_when_the_file_lacks_one()
    {
        string path = _dir.Combine("known_hosts");
        File.WriteAllText(path, Line("alpha", _ed25519));
        KnownHostsFile.Append(path, "beta", 22, _rsa);
        Assert.Equal(2, File.ReadAllLines(path).Length);
        Assert.Equal(2, KnownHostsFile.Load(path).Entries.Count);
    }

    [Fact]
    public void Append_reports_KnownHostsUnwritable()
    {
        string blocker = _dir.Combine("file");
        File.WriteAllText(blocker, "x");
        SyncException ex = Assert.Throws<SyncException>(() => KnownHostsFile.Append(Path.Combine(blocker, "known_hosts"), "h", 22, _rsa));
        Assert.Equal(ErrorIds.KnownHostsUnwritable, ex.ErrorId);
    }

    [Fact]
    public void Host_patterns_glob_case_insensitively()
    {
        Assert.True(HostPattern.Match("Web01.Example.ORG", "web*.example.org"));
        Assert.True(HostPattern.Match("a", "*"));
        Assert.True(HostPattern.Match("", "*"));
        Assert.False(HostPattern.Match("ab", "a?c"));
        Assert.True(HostPattern.Match("aXbYc", "a*b*c"));
        Assert.False(HostPattern.Match("aXbY", "a*b*c"));
        Assert.False(HostPattern.MatchList("x", ["!x", "*"]));
        Assert.False(HostPattern.MatchList("y", ["!x"]));
    }
}
