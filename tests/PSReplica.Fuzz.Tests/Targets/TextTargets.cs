using System.Text;
using PSReplica.Engine.Filtering;
using PSReplica.Ssh;

namespace PSReplica.Fuzz.Tests.Targets;

/// <summary>The text parsers: filter rules (as -Filter gives them, as a merge or per-directory file holds them, and as a
/// .gitignore), known_hosts and ssh_config. A clean refusal is the ErrorRecord's exception: InvalidFilterRule or
/// FilterFileUnreadable, SshConfigInvalid; a known_hosts line that is not understood is skipped, so nothing is clean
/// there.</summary>
internal static class TextTargets
{
    private static readonly Lazy<string> s_sandbox = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), "psreplica-fuzz-text-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "rules"), "- *.tmp\n+ keep/\n");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(directory, recursive: true);
        return directory;
    });

    /// <summary>A path of many components and a long name, where a backtracking matcher would show.</summary>
    private static readonly string s_longPath = string.Join('/', Enumerable.Repeat("aaaaaaaaab", 24)) + "/" + new string('a', 200) + ".txt";

    public static FuzzTarget FilterRules { get; } = new()
    {
        Name = "filter-rules",
        IsText = true,
        Tokens = FuzzTarget.Words("+ ", "- ", "P ", "R ", "H ", "S ", "! ", ". ", ": ", "dir-merge", "merge", "include,", "exclude", "-C", ",/!", ":n- ", ".e ",
            "**", "*", "?", "[", "]", "[!a-z]", "[[:alpha:]]", "\\", "/", "\n", "rules", ".rsync-filter", "/***", "x/**/y", "e"),
        IsClean = FuzzTarget.SyncErrors(ErrorIds.InvalidFilterRule, ErrorIds.FilterFileUnreadable),
        Excluded = LeavesSandbox,
        Seeds = () => Texts(
            "- *.tmp\n+ /src/***\n- /*\n",
            "+ */\n+ **/*.cs\n- *\n",
            ": .rsync-filter\n. rules\n-! /keep\n",
            "dir-merge,- .cvsignore\nP /backup/\nR *.bak\nH .git/\nS .git/config\n!\n- [!a-z]*[[:digit:]]?\n",
            "-C\n+ x/**/y\nexclude,s /cache\ninclude,r /cache/keep\n"),
        Run = input =>
        {
            string text = Encoding.UTF8.GetString(input);
            // As -Filter gives them, one rule per item (merge files relative to the sandbox); an empty item is an error of its
            // own, which would hide the rest.
            string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            SyncFilter filter = SyncFilter.Parse(lines, s_sandbox.Value);
            // As a per-directory file holds them: every dir-merge rule reads the same text again.
            FilterContext context = filter.CreateContext(FilterSide.Sender, "/fuzz/root", readFile: path => path.StartsWith("/fuzz/", StringComparison.Ordinal) ? text : null);
            context.EnterDirectory(string.Empty, "/fuzz/root");
            _ = context.IsIncluded("a", isDirectory: true);
            context.EnterDirectory("a", "/fuzz/root/a");
            _ = context.IsIncluded("a/b.txt", isDirectory: false);
            _ = context.IsIncluded("a/" + s_longPath, isDirectory: false);
            context.LeaveDirectory();
            context.LeaveDirectory();
            _ = filter.Test(s_longPath, isDirectory: false);
            _ = filter.Test(".git/config", isDirectory: false);
            _ = GitIgnoreTranslator.Translate(text, ".gitignore");
        },
    };

    public static FuzzTarget KnownHosts { get; } = new()
    {
        Name = "known-hosts",
        IsText = true,
        Tokens = FuzzTarget.Words("@revoked ", "@cert-authority ", "|1|", "|", "[", "]:2222", "*", "?", "!", ",", " ", "#", "ssh-ed25519 ", "ssh-rsa ",
            "AAAAC3NzaC1lZDI1NTE5AAAAI", "=", "\n", "\t"),
        IsClean = _ => false,
        Weight = 0.25,
        Seeds = () => Texts(
            $"host.example ssh-ed25519 {Ed25519Base64}\n[host.example]:2222,10.0.0.1 ssh-ed25519 {Ed25519Base64} comment\n",
            $"# comment\n*.example,!bad.example ssh-ed25519 {Ed25519Base64}\n@revoked * ssh-ed25519 {Ed25519Base64}\n@cert-authority *.example ssh-ed25519 {Ed25519Base64}\n",
            $"|1|{Convert.ToBase64String(new byte[20])}|{Convert.ToBase64String(new byte[20])} ssh-ed25519 {Ed25519Base64}\n"),
        Run = input =>
        {
            string path = Path.Combine(s_sandbox.Value, "known_hosts");
            File.WriteAllBytes(path, input);
            KnownHostsFile file = KnownHostsFile.Load(path);
            var key = new HostKey(Ed25519Blob());
            _ = file.Check("host.example", 22, key);
            _ = file.Check("10.0.0.1", 2222, key);
            _ = file.KnownKeyTypes("bad.example", 22);
        },
    };

    public static FuzzTarget SshConfig { get; } = new()
    {
        Name = "ssh-config",
        IsText = true,
        Tokens = FuzzTarget.Words("Host ", "Match ", "HostName ", "User ", "Port ", "IdentityFile ", "UserKnownHostsFile ", "ProxyJump ", "ProxyCommand ",
            "KexAlgorithms ", "Ciphers ", "*", "?", "!", "=", "\"", " ", "\t", "\n", "%h", "%p", "%r", "%%", "%d", "%u", "~/", "none", "#"),
        IsClean = FuzzTarget.SyncErrors(ErrorIds.SshConfigInvalid),
        Excluded = input => Encoding.UTF8.GetString(input).Contains("include", StringComparison.OrdinalIgnoreCase),
        Seeds = () => Texts(
            "Host fuzz\n    HostName 127.0.0.1\n    User root\n    Port 2222\n    IdentityFile ~/.ssh/id_%h_%p\n\nHost *\n    UserKnownHostsFile /dev/null\n",
            "Host *.example !bad.example\n  ProxyJump jump@gw:22\nMatch host x\n  User nobody\nHost \"quoted name\" fuzz\n  ProxyCommand ssh -W %h:%p gw\n  Ciphers aes128-ctr\n",
            "User=first\nPort = 22\nKexAlgorithms curve25519-sha256\n"),
        Run = input =>
        {
            SshConfigFile config = SshConfigFile.Parse(Encoding.UTF8.GetString(input));
            _ = config.Resolve("fuzz");
            _ = config.Resolve("host.example");
        },
    };

    /// <summary>An ssh-ed25519 key blob: the type and 32 bytes of key, each length-prefixed.</summary>
    private static byte[] Ed25519Blob()
    {
        byte[] type = "ssh-ed25519"u8.ToArray();
        return [0, 0, 0, (byte)type.Length, .. type, 0, 0, 0, 32, .. Enumerable.Range(1, 32).Select(i => (byte)i)];
    }

    private static string Ed25519Base64 => Convert.ToBase64String(Ed25519Blob());

    private static IEnumerable<byte[]> Texts(params string[] texts) => texts.Select(Encoding.UTF8.GetBytes);

    /// <summary>A merge rule may name any file: the run keeps to names inside the sandbox (a device or a kernel file could
    /// block or never end, a large file would count as the parser's allocation).</summary>
    private static bool LeavesSandbox(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        if (text.Contains("/dev", StringComparison.Ordinal) || text.Contains("/proc", StringComparison.Ordinal) || text.Contains("/sys", StringComparison.Ordinal))
        {
            return true;
        }

        int line = 0;
        foreach (string rule in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                (FilterRuleType type, _, string pattern) = FilterRuleParser.Lex(rule, null, ++line);
                if (type == FilterRuleType.Merge && (pattern.Contains('/', StringComparison.Ordinal) || pattern.StartsWith('~')))
                {
                    return true;
                }
            }
            catch (SyncException)
            {
                // Refused by the parser: the run sees the same refusal.
            }
        }

        return false;
    }
}
