namespace PSReplica.Engine.Tests.Filtering;

public sealed class SyncFilterTests
{
    [Fact]
    public void The_empty_filter_includes_everything()
    {
        Assert.True(SyncFilter.Empty.Test("a/b", isDirectory: false));
        Assert.Null(SyncFilter.Empty.Explain("a/b", isDirectory: false));
        Assert.Empty(SyncFilter.Empty.Rules);
    }

    [Fact]
    public void The_first_matching_rule_wins()
    {
        var filter = new SyncFilter([FilterRule.Include("keep.o"), FilterRule.Exclude("*.o"), FilterRule.Include("*")]);
        Assert.True(filter.Test("keep.o", isDirectory: false));
        Assert.False(filter.Test("x.o", isDirectory: false));
        Assert.True(filter.Test("x.c", isDirectory: false));

        var reversed = new SyncFilter([FilterRule.Exclude("*.o"), FilterRule.Include("keep.o")]);
        Assert.False(reversed.Test("keep.o", isDirectory: false));
    }

    [Fact]
    public void An_unmatched_path_is_included()
    {
        var filter = new SyncFilter([FilterRule.Exclude("*.o")]);
        Assert.True(filter.Test("main.c", isDirectory: false));
        Assert.Null(filter.Explain("main.c", isDirectory: false));
    }

    [Fact]
    public void FromPatterns_puts_includes_before_excludes()
    {
        SyncFilter filter = SyncFilter.FromPatterns(exclude: ["*.log"], include: ["important.log"]);
        Assert.Equal(["+ important.log", "- *.log"], filter.Rules.Select(r => r.Text));
        Assert.True(filter.Test("important.log", isDirectory: false));
        Assert.False(filter.Test("debug.log", isDirectory: false));
        Assert.Equal([1, 2], filter.Rules.Select(r => r.Line));
    }

    [Fact]
    public void FromPatterns_accepts_nulls()
    {
        Assert.Empty(SyncFilter.FromPatterns(null, null).Rules);
        Assert.Single(SyncFilter.FromPatterns(null, ["x"]).Rules);
    }

    [Fact]
    public void Explain_returns_the_deciding_rule()
    {
        FilterRule keep = FilterRule.Include("keep/***");
        FilterRule logs = FilterRule.Exclude("*.log");
        FilterRule build = FilterRule.Exclude("build/");
        var filter = new SyncFilter([keep, logs, build]);

        Assert.Same(keep, filter.Explain("keep/x.log", isDirectory: false));
        Assert.Same(logs, filter.Explain("src/x.log", isDirectory: false));
        Assert.Same(build, filter.Explain("build", isDirectory: true));
        Assert.Null(filter.Explain("build", isDirectory: false));
        Assert.Null(filter.Explain("src/main.c", isDirectory: false));
    }

    [Fact]
    public void ToString_lists_the_rules_in_rsync_syntax_one_a_line()
    {
        SyncFilter filter = SyncFilter.FromPatterns(["*/", "*.c"], ["*"]);
        Assert.Equal("+ */\n+ *.c\n- *\n", filter.ToString());
    }

    [Fact]
    public void Append_keeps_the_order()
    {
        SyncFilter a = SyncFilter.FromPatterns(null, ["a"]);
        SyncFilter b = SyncFilter.FromPatterns(["b"], null);
        Assert.Equal(["- a", "+ b"], a.Append(b).Rules.Select(r => r.Text));
    }

    [Fact]
    public void FromPatterns_rejects_a_malformed_pattern()
    {
        SyncException ex = Assert.Throws<SyncException>(() => SyncFilter.FromPatterns(null, ["ok", "[abc"]));
        Assert.Equal(ErrorIds.InvalidFilterPattern, ex.ErrorId);
    }

    // Differential check: which paths rsync would transfer, with the same --include/--exclude options.
    public static TheoryData<string[], string[]> RsyncCases => new()
    {
        { [], ["*.o"] },
        { [], ["foo"] },
        { [], ["/foo"] },
        { [], ["sub/foo"] },
        { [], ["b/c"] },
        { [], ["cache/"] },
        { [], ["*/"] },
        { [], ["dir/***"] },
        { [], ["/dir/***"] },
        { ["dir/***"], ["*"] },
        { ["*/", "*.c"], ["*"] },
        { ["keep.o"], ["*.o"] },
        { [], ["**/foo"] },
        { [], ["a/**/c"] },
        { [], ["sub/**"] },
        { [], ["**.bak"] },
        { [], ["/**/x"] },
        { [], ["?"] },
        { [], ["[ab]*"] },
        { [], ["[!a]*"] },
        { [], ["*[[:digit:]]"] },
        { [], ["a\\b"] },
        { [], ["a\\*"] },
        { [], ["x*/"] },
        { ["/sub/"], ["/*"] },
        { [], ["sub/*"] },
    };

    private static readonly string[] s_tree =
    [
        "foo", "a.o", "keep.o", "x.c", "b", "c1", "ab", "a\\b", "a*", "x.bak", "dir",
        "sub/", "sub/foo", "sub/x", "sub/a.o", "sub/b/", "sub/b/c", "sub/b/d.bak",
        "a/", "a/b/", "a/b/c", "a/c", "a/x/", "a/x/y/", "a/x/y/c",
        "dir2/", "dir2/dir/", "dir2/dir/f", "dir2/dir/sub/", "dir2/dir/sub/g",
        "d/", "d/dir", "d/foo/", "d/foo/bar", "xy/", "xy/z", "cache/", "cache/1", "e/", "e/cache",
        "b2/", "b2/c", "z/", "z/b/", "z/b/c",
    ];

    [Theory]
    [MemberData(nameof(RsyncCases))]
    public void Selects_the_same_paths_as_rsync(string[] include, string[] exclude)
    {
        Assert.True(TestTree.HasProgram("rsync"), "the differential test needs rsync on PATH");
        using var tree = new TestTree();
        foreach (string entry in s_tree)
        {
            string path = Path.Join(tree.Source, entry.TrimEnd('/'));
            if (entry.EndsWith('/'))
            {
                Directory.CreateDirectory(path);
            }
            else
            {
                File.WriteAllText(path, entry);
            }
        }

        var arguments = new List<string> { "-r", "-n", "--out-format=%n" };
        arguments.AddRange(include.Select(p => "--include=" + p));
        arguments.AddRange(exclude.Select(p => "--exclude=" + p));
        arguments.Add(tree.Source + "/");
        arguments.Add(tree.Destination + "/");
        var expected = TestTree.Run("rsync", [.. arguments])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.TrimEnd('/'))
            .Where(line => line != ".")
            .Order(StringComparer.Ordinal)
            .ToList();

        SyncFilter filter = SyncFilter.FromPatterns(include, exclude);
        var actual = new List<string>();
        Walk(filter, tree.Source, string.Empty, actual);
        actual.Sort(StringComparer.Ordinal);

        Assert.Equal(expected, actual);
    }

    /// <summary>What the filter selects, pruning excluded directories as rsync does.</summary>
    private static void Walk(SyncFilter filter, string directory, string relative, List<string> selected)
    {
        foreach (string path in Directory.EnumerateFileSystemEntries(directory))
        {
            string name = Path.GetFileName(path);
            string rel = relative.Length == 0 ? name : relative + "/" + name;
            bool isDirectory = Directory.Exists(path);
            if (!filter.Test(rel, isDirectory))
            {
                continue;
            }

            selected.Add(rel);
            if (isDirectory)
            {
                Walk(filter, path, rel, selected);
            }
        }
    }

    [Fact]
    public void A_second_dir_merge_rule_of_the_same_file_name_is_dropped_as_rsync_drops_it()
    {
        SyncFilter filter = SyncFilter.Parse(":e .rsync-filter", "dir-merge /.rsync-filter", ": other", "dir-merge sub/other", "- x");
        Assert.Equal(["- .rsync-filter", ":e .rsync-filter", ": other", "- x"], filter.Rules.Select(rule => rule.Text));
    }
}
