using System.Diagnostics;
using System.Text;

namespace PSReplica.Engine.Tests.Filtering;

/// <summary>Small differential checks of the rule language against the real rsync: what `rsync -r -n --delete`
/// transfers and deletes with the same rules equals what the planner creates and deletes.</summary>
public sealed class FilterRsyncComparisonTests
{
    private static readonly string[] s_source =
    [
        "foo", "x.o", "keep.log", "a/foo", "a/bar", "a/x.o", "a/y.txt", "a/b/foo", "a/b/bar", "a/b/c.log",
        "sub/foo", "sub/deep/x.o", "sub/deep/z.txt",
    ];

    private static readonly string[] s_destination =
    [
        "old.log", "old.o", "a/gone.txt", "a/gone.log", "a/q.o", "a/old/f.o", "a/old/k.log", "gone/f.o", "gone/k.log",
        "gone/inner/t.txt", "sub/deep/extra.txt", "sub/deep/extra.o",
    ];

    public static TheoryData<string, string[]> Cases => new()
    {
        { "exclude", ["- *.o"] },
        { "include first", ["+ a/x.o", "- *.o"] },
        { "hide is sender-only", ["H *.log"] },
        { "show", ["S keep.log", "H *.log"] },
        { "protect is receiver-only", ["P *.log"] },
        { "risk lifts protection", ["R old.log", "P *.log"] },
        { "-s", ["-s *.log"] },
        { "-r", ["-r *.log"] },
        { "+s/-r mix", ["+r gone/***", "- *.log"] },
        { "perishable", ["-p *.o"] },
        { "negate dir-only", ["-! */"] },
        { "negate", ["+ */", "-! *.log"] },
        { "anchored", ["- /foo", "- /a/b/"] },
        { "floating path", ["- a/b", "- deep/*.o"] },
        { "triple star", ["- sub/***"] },
        { "include only c", ["+ */", "+ *.txt", "- *"] },
        { "long names", ["exclude *.o", "include,s keep.log", "hide *.log", "protect old.o"] },
        { "underscore", ["-_*.o", "exclude_foo"] },
        { "clear", ["- *", "!", "- *.o"] },
        { "cvs", ["-C"] },
        { "absolute path modifier", ["-/ **/a/foo"] },
        { "dir-merge", [": .rules"] },
        { "dir-merge n", [":n .rules"] },
        { "dir-merge e", [":e .rules"] },
        { "dir-merge -", [":- .excl"] },
        { "dir-merge after global", ["- *.txt", ": .rules"] },
        { "dir-merge before global", [": .rules", "+ *.txt", "- *.txt"] },
        { "dir-merge s", [":s- .excl"] },
        { "dir-merge r", [":r- .excl", "P *.log"] },
        { "dir-merge cvs", [":C"] },
        { "dir-merge with -C", [":C", "-C"] },
        { "dir-merge declared in a dir-merge file", [": .nested"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Transfers_and_deletes_what_rsync_does(string name, string[] rules)
    {
        Compare(name, rules, deleteExcluded: false);
    }

    [Theory]
    [InlineData("exclude", new[] { "- *.log" })]
    [InlineData("sides kept", new[] { "-sr *.log" })]
    [InlineData("protect kept", new[] { "- *.o", "P *.log" })]
    [InlineData("dir-merge", new[] { ": .rules" })]
    public void Delete_excluded_matches_rsync(string name, string[] rules)
    {
        Compare(name, rules, deleteExcluded: true);
    }

    [Fact]
    public void A_side_chosen_by_the_dir_merge_rule_and_again_in_its_file_stops_the_run_as_in_rsync()
    {
        using var tree = new TestTree();
        tree.Src("a/.rules", "P x\n");
        SyncOptions options = tree.Options() with { Filter = SyncFilter.Parse(":s .rules") };
        SyncException ex = Assert.Throws<SyncException>(() => LocalReplicator.Plan(options, new RecordingObserver(), CancellationToken.None));
        Assert.Equal(ErrorIds.InvalidFilterRule, ex.ErrorId);
        Assert.Contains(Path.Join(tree.Source, "a", ".rules") + ", line 1", ex.Message, StringComparison.Ordinal);
        Assert.Equal("P x", ex.Target);
    }

    private static void Compare(string name, string[] rules, bool deleteExcluded)
    {
        Assert.True(TestTree.HasProgram("rsync"), "the comparison needs rsync on PATH");
        using var tree = new TestTree();
        foreach (string path in s_source)
        {
            tree.Src(path, path);
        }

        foreach (string path in s_destination)
        {
            tree.Dst(path, path);
        }

        // Per-directory files on both sides: the sender's hide, the receiver's protect.
        tree.Src("a/.rules", "- bar\n+ y.txt\n- /foo\n");
        tree.Src("a/b/.rules", "!\n- foo\n");
        tree.Src("sub/.rules", "- *.txt\n");
        tree.Src("a/.excl", "b/foo\n/x.o\n");
        tree.Src("a/.cvsignore", "y.txt bar\n");
        tree.Src("sub/.nested", ": .inner\n");
        tree.Src("sub/deep/.inner", "- x.o\n");
        tree.Dst("sub/deep/.inner", "- extra.o\n");
        tree.Dst("a/.rules", "- gone.txt\n- *.o\n");
        tree.Dst("gone/.rules", "- k.log\n");
        tree.Dst("sub/deep/.rules", "P extra.*\n");
        tree.Dst("gone/.cvsignore", "f.o\n");

        var arguments = new List<string> { "-r", "-n", "--delete", "--out-format=%n" };
        if (deleteExcluded)
        {
            arguments.Add("--delete-excluded");
        }

        arguments.AddRange(rules.Select(r => "--filter=" + r));
        arguments.Add(tree.Source + "/");
        arguments.Add(tree.Destination + "/");
        List<string> expected = Normalize(RunRsync(arguments));
        // A dry run also says "deleting" for a directory it then cannot delete; a real run only says the latter.
        expected.RemoveAll(line => line.StartsWith("deleting ", StringComparison.Ordinal)
            && expected.Contains("cannot delete non-empty directory: " + line["deleting ".Length..]));

        var observer = new RecordingObserver();
        SyncOptions options = tree.Options(delete: true) with { Filter = SyncFilter.Parse(rules), DeleteExcluded = deleteExcluded };
        SyncPlan plan = LocalReplicator.Plan(options, observer, CancellationToken.None);
        var actual = new List<string>();
        foreach (var action in plan.Actions)
        {
            if (action.Item.Action is SyncAction.Create or SyncAction.Update)
            {
                actual.Add(action.Item.RelativePath);
            }
            else if (action.Item.Action == SyncAction.Delete)
            {
                actual.Add("deleting " + action.Item.RelativePath);
            }
        }

        foreach (string warning in observer.Warnings)
        {
            const string Prefix = "Keeping the directory '";
            if (warning.StartsWith(Prefix, StringComparison.Ordinal))
            {
                actual.Add("cannot delete non-empty directory: " + warning[Prefix.Length..warning.IndexOf('\'', Prefix.Length)]);
            }
        }

        actual = Normalize(actual);
        Assert.True(expected.SequenceEqual(actual),
            $"{name}: rules {string.Join(" | ", rules)}\nrsync:  {string.Join(", ", expected)}\nPSReplica: {string.Join(", ", actual)}");
    }

    private static List<string> Normalize(IEnumerable<string> lines) =>
        [.. lines.Select(l => l.TrimEnd('/')).Where(l => l.Length > 0 && l != ".").Distinct().Order(StringComparer.Ordinal)];

    private static List<string> RunRsync(List<string> arguments)
    {
        var info = new ProcessStartInfo("rsync")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.Environment["HOME"] = "/nonexistent";
        info.Environment.Remove("CVSIGNORE");
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        using Process process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        // 23: some deletions refused ("cannot delete non-empty directory"), which is part of what is compared.
        Assert.True(process.ExitCode is 0 or 23, $"rsync exited with {process.ExitCode}: {stderr.Result}");
        return [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }
}
