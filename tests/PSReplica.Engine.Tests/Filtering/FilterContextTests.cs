namespace PSReplica.Engine.Tests.Filtering;

/// <summary>The per-directory (dir-merge) stack: inheritance, n, e, clear, anchoring at the file's directory.</summary>
public sealed class FilterContextTests
{
    private readonly Dictionary<string, string> _files = [];

    private FilterContext Context(params string[] rules) =>
        SyncFilter.Parse(rules).CreateContext(FilterSide.Sender, "/t", readFile: path => _files.GetValueOrDefault(path));

    [Fact]
    public void Rules_of_a_directory_file_apply_to_its_contents_and_are_inherited()
    {
        _files["/t/a/.rules"] = "- *.tmp\n";
        FilterContext context = Context(": .rules");
        context.EnterDirectory(string.Empty, "/t");
        Assert.True(context.IsIncluded("x.tmp", false));
        context.EnterDirectory("a", "/t/a");
        Assert.False(context.IsIncluded("a/x.tmp", false));
        context.EnterDirectory("a/b", "/t/a/b");
        Assert.False(context.IsIncluded("a/b/x.tmp", false));
        FilterRule rule = context.Explain("a/b/x.tmp", false)!;
        Assert.Equal("/t/a/.rules", rule.Source);
        Assert.Equal(1, rule.Line);
        Assert.Equal("a", rule.BaseDirectory);
        context.LeaveDirectory();
        context.LeaveDirectory();
        Assert.True(context.IsIncluded("c/x.tmp", false));
        context.LeaveDirectory();
        Assert.Equal(0, context.Depth);
    }

    [Fact]
    public void N_keeps_the_rules_to_their_own_directory()
    {
        _files["/t/a/.rules"] = "- *.tmp\n";
        FilterContext context = Context(":n .rules");
        context.EnterDirectory(string.Empty, "/t");
        context.EnterDirectory("a", "/t/a");
        Assert.False(context.IsIncluded("a/x.tmp", false));
        context.EnterDirectory("a/b", "/t/a/b");
        Assert.True(context.IsIncluded("a/b/x.tmp", false));
    }

    [Fact]
    public void E_excludes_the_file_itself_before_its_own_rules()
    {
        _files["/t/.rules"] = "+ .rules\n";
        FilterContext context = Context(":e .rules");
        context.EnterDirectory(string.Empty, "/t");
        Assert.False(context.IsIncluded(".rules", false));
        Assert.False(Context(":e .rules").IsIncluded("deep/.rules", false));
        Assert.True(Context(": .rules").IsIncluded(".rules", false));
    }

    [Fact]
    public void Newer_directory_rules_come_before_inherited_ones_and_clear_drops_the_inherited()
    {
        _files["/t/.rules"] = "- *.log\n";
        _files["/t/a/.rules"] = "+ keep.log\n";
        _files["/t/b/.rules"] = "!\n- *.txt\n";
        FilterContext context = Context(": .rules");
        context.EnterDirectory(string.Empty, "/t");
        context.EnterDirectory("a", "/t/a");
        Assert.True(context.IsIncluded("a/keep.log", false));
        Assert.False(context.IsIncluded("a/other.log", false));
        context.LeaveDirectory();
        context.EnterDirectory("b", "/t/b");
        Assert.True(context.IsIncluded("b/x.log", false));
        Assert.False(context.IsIncluded("b/x.txt", false));
    }

    [Fact]
    public void Anchored_rules_anchor_at_the_file_directory_and_floating_ones_see_the_whole_path()
    {
        _files["/t/a/.rules"] = "- /foo\n- a/bar\n- /sub/***\n";
        FilterContext context = Context(": .rules");
        context.EnterDirectory(string.Empty, "/t");
        context.EnterDirectory("a", "/t/a");
        Assert.False(context.IsIncluded("a/foo", false));
        Assert.False(context.IsIncluded("a/bar", false));
        Assert.False(context.IsIncluded("a/sub", true));
        context.EnterDirectory("a/b", "/t/a/b");
        Assert.True(context.IsIncluded("a/b/foo", false));
        Assert.False(context.IsIncluded("a/b/a/bar", false));
        context.LeaveDirectory();
        context.EnterDirectory("a/sub", "/t/a/sub");
        Assert.False(context.IsIncluded("a/sub/x", false));
    }

    [Fact]
    public void Global_rules_before_the_dir_merge_rule_win_and_those_after_lose()
    {
        _files["/t/.rules"] = "+ *.txt\n";
        FilterContext before = Context("- a.txt", ": .rules", "- *.txt");
        before.EnterDirectory(string.Empty, "/t");
        Assert.False(before.IsIncluded("a.txt", false));
        Assert.True(before.IsIncluded("b.txt", false));
    }

    [Fact]
    public void Cvs_mode_reads_words_with_bang_clearing_and_no_inheritance()
    {
        _files["/t/.cvsignore"] = "a.x b.x ! c.x\n";
        FilterContext context = Context(":C");
        context.EnterDirectory(string.Empty, "/t");
        Assert.True(context.IsIncluded("a.x", false));
        Assert.False(context.IsIncluded("c.x", false));
        context.EnterDirectory("d", "/t/d");
        Assert.True(context.IsIncluded("d/c.x", false));
    }

    [Fact]
    public void A_malformed_directory_file_is_InvalidFilterRule_and_leaves_the_stack_as_it_was()
    {
        _files["/t/a/.rules"] = "- ok\nnonsense\n";
        FilterContext context = Context(": .rules");
        context.EnterDirectory(string.Empty, "/t");
        SyncException ex = Assert.Throws<SyncException>(() => context.EnterDirectory("a", "/t/a"));
        Assert.Equal(ErrorIds.InvalidFilterRule, ex.ErrorId);
        Assert.Contains("/t/a/.rules, line 2", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, context.Depth);
    }

    [Fact]
    public void A_name_with_a_leading_slash_also_reads_the_parents_of_the_root()
    {
        _files["/.rules"] = "- *.bak\n- /t/x\n";
        _files["/t/.rules"] = "- *.tmp\n";
        FilterContext context = Context(": /.rules");
        context.EnterDirectory(string.Empty, "/t");
        Assert.False(context.IsIncluded("a.bak", false));
        Assert.False(context.IsIncluded("a.tmp", false));
        Assert.True(context.IsIncluded("t/x", false));
        Assert.True(context.IsIncluded("x", false));
    }

    [Fact]
    public void A_merge_rule_in_a_directory_file_names_its_file_from_the_transfer_root_as_rsync_does()
    {
        using var tree = new TestTree();
        tree.Src("a/.rules", ". inc.rules\n");
        tree.Src("inc.rules", "- foo\n");
        FilterContext context = SyncFilter.Parse(": .rules").CreateContext(FilterSide.Sender, tree.Source);
        context.EnterDirectory(string.Empty, tree.Source);
        Assert.True(context.IsIncluded("foo", false));
        context.EnterDirectory("a", Path.Join(tree.Source, "a"));
        Assert.False(context.IsIncluded("a/foo", false));
        Assert.Equal(Path.Join(tree.Source, "inc.rules"), context.Explain("a/foo", false)!.Source);
    }

    [Fact]
    public void A_directory_with_the_file_name_counts_as_no_file_as_in_rsync()
    {
        using var tree = new TestTree();
        Directory.CreateDirectory(Path.Join(tree.Source, ".rules"));
        FilterContext context = SyncFilter.Parse(": .rules").CreateContext(FilterSide.Sender, tree.Source);
        context.EnterDirectory(string.Empty, tree.Source);
        Assert.True(context.IsIncluded("x", false));
        Assert.Equal(1, context.Depth);
    }

    [Fact]
    public void A_dir_merge_rule_in_a_directory_file_reads_its_own_files_from_there_down()
    {
        // rsync: ": .inner" in a/.rules reads a/.inner, a/b/.inner, ..., but not c/.inner.
        _files["/t/a/.rules"] = ": .inner\n";
        _files["/t/a/.inner"] = "- bar\n";
        _files["/t/a/b/.inner"] = "- foo\n";
        _files["/t/c/.inner"] = "- foo\n";
        FilterContext context = Context(": .rules");
        context.EnterDirectory(string.Empty, "/t");
        context.EnterDirectory("a", "/t/a");
        Assert.True(context.IsIncluded("a/foo", false));
        Assert.False(context.IsIncluded("a/bar", false));
        context.EnterDirectory("a/b", "/t/a/b");
        Assert.False(context.IsIncluded("a/b/foo", false));
        Assert.False(context.IsIncluded("a/b/bar", false));
        context.LeaveDirectory();
        context.LeaveDirectory();
        context.EnterDirectory("c", "/t/c");
        Assert.True(context.IsIncluded("c/foo", false));
        context.LeaveDirectory();
        context.LeaveDirectory();
        Assert.Equal(0, context.Depth);
    }

    [Fact]
    public void A_dir_merge_rule_for_a_name_already_read_per_directory_is_ignored_as_in_rsync()
    {
        _files["/t/.r2"] = ": .r2\n- bar\n";
        _files["/t/a/.r2"] = ": .r3\n";
        _files["/t/a/.r3"] = ": .r2\n: .r3\n- foo\n";
        FilterContext context = Context(": .r2");
        context.EnterDirectory(string.Empty, "/t");
        Assert.False(context.IsIncluded("bar", false));
        Assert.True(context.IsIncluded("foo", false));
        context.EnterDirectory("a", "/t/a");
        Assert.False(context.IsIncluded("a/foo", false));
        Assert.False(context.IsIncluded("a/bar", false));
    }

    [Fact]
    public void Leave_without_enter_throws()
    {
        Assert.Throws<InvalidOperationException>(() => Context("- x").LeaveDirectory());
    }

    [Fact]
    public void A_real_directory_file_is_read_from_disk()
    {
        using var tree = new TestTree();
        tree.Src("a/.rsync-filter", "- *.o\n");
        FilterContext context = SyncFilter.Parse(": .rsync-filter").CreateContext(FilterSide.Sender, tree.Source);
        context.EnterDirectory(string.Empty, tree.Source);
        context.EnterDirectory("a", Path.Join(tree.Source, "a"));
        Assert.False(context.IsIncluded("a/x.o", false));
    }
}
