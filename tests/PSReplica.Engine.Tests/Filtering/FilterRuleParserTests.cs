namespace PSReplica.Engine.Tests.Filtering;

public sealed class FilterRuleParserTests
{
    [Theory]
    [InlineData("- *.o", FilterRuleType.Exclude, "*.o", FilterModifiers.None)]
    [InlineData("+ *.c", FilterRuleType.Include, "*.c", FilterModifiers.None)]
    [InlineData("exclude *.o", FilterRuleType.Exclude, "*.o", FilterModifiers.None)]
    [InlineData("include *.c", FilterRuleType.Include, "*.c", FilterModifiers.None)]
    [InlineData("H x", FilterRuleType.Hide, "x", FilterModifiers.None)]
    [InlineData("hide x", FilterRuleType.Hide, "x", FilterModifiers.None)]
    [InlineData("S x", FilterRuleType.Show, "x", FilterModifiers.None)]
    [InlineData("show x", FilterRuleType.Show, "x", FilterModifiers.None)]
    [InlineData("P x", FilterRuleType.Protect, "x", FilterModifiers.None)]
    [InlineData("protect x", FilterRuleType.Protect, "x", FilterModifiers.None)]
    [InlineData("R x", FilterRuleType.Risk, "x", FilterModifiers.None)]
    [InlineData("risk x", FilterRuleType.Risk, "x", FilterModifiers.None)]
    [InlineData(". rules.txt", FilterRuleType.Merge, "rules.txt", FilterModifiers.None)]
    [InlineData("merge rules.txt", FilterRuleType.Merge, "rules.txt", FilterModifiers.None)]
    [InlineData(": .rsync-filter", FilterRuleType.DirMerge, ".rsync-filter", FilterModifiers.None)]
    [InlineData("dir-merge .rsync-filter", FilterRuleType.DirMerge, ".rsync-filter", FilterModifiers.None)]
    [InlineData("!", FilterRuleType.Clear, "", FilterModifiers.None)]
    [InlineData("clear", FilterRuleType.Clear, "", FilterModifiers.None)]
    [InlineData("-/ /etc/passwd", FilterRuleType.Exclude, "/etc/passwd", FilterModifiers.AbsolutePath)]
    [InlineData("+! */", FilterRuleType.Include, "*/", FilterModifiers.Negate)]
    [InlineData("-s x", FilterRuleType.Exclude, "x", FilterModifiers.SenderSide)]
    [InlineData("-r x", FilterRuleType.Exclude, "x", FilterModifiers.ReceiverSide)]
    [InlineData("-p *.o", FilterRuleType.Exclude, "*.o", FilterModifiers.Perishable)]
    [InlineData("-x user.*", FilterRuleType.Exclude, "user.*", FilterModifiers.Xattr)]
    [InlineData("-sr x", FilterRuleType.Exclude, "x", FilterModifiers.SenderSide | FilterModifiers.ReceiverSide)]
    [InlineData("-,p x", FilterRuleType.Exclude, "x", FilterModifiers.Perishable)]
    [InlineData("exclude,p x", FilterRuleType.Exclude, "x", FilterModifiers.Perishable)]
    [InlineData("exclude, x", FilterRuleType.Exclude, "x", FilterModifiers.None)]
    [InlineData("-_x", FilterRuleType.Exclude, "x", FilterModifiers.None)]
    [InlineData("exclude_x", FilterRuleType.Exclude, "x", FilterModifiers.None)]
    [InlineData("- a b", FilterRuleType.Exclude, "a b", FilterModifiers.None)]
    [InlineData("-  x", FilterRuleType.Exclude, " x", FilterModifiers.None)]
    [InlineData("Hp x", FilterRuleType.Hide, "x", FilterModifiers.Perishable)]
    [InlineData("P! x", FilterRuleType.Protect, "x", FilterModifiers.Negate)]
    [InlineData(":n- .excl", FilterRuleType.DirMerge, ".excl", FilterModifiers.NoInherit | FilterModifiers.ExcludeOnly)]
    [InlineData("dir-merge,n- .excl", FilterRuleType.DirMerge, ".excl", FilterModifiers.NoInherit | FilterModifiers.ExcludeOnly)]
    [InlineData(".e file", FilterRuleType.Merge, "file", FilterModifiers.ExcludeSelf)]
    [InlineData(":w+ words", FilterRuleType.DirMerge, "words", FilterModifiers.WordSplit | FilterModifiers.IncludeOnly)]
    [InlineData(":sp .x", FilterRuleType.DirMerge, ".x", FilterModifiers.SenderSide | FilterModifiers.Perishable)]
    [InlineData(":C", FilterRuleType.DirMerge, ".cvsignore",
        FilterModifiers.Cvs | FilterModifiers.NoInherit | FilterModifiers.WordSplit | FilterModifiers.ExcludeOnly)]
    public void Parses_each_rule_form_and_modifier(string text, FilterRuleType type, string pattern, FilterModifiers modifiers)
    {
        FilterRule rule = FilterRule.Parse(text, "rules.txt", 3);
        Assert.Equal(type, rule.Type);
        Assert.Equal(pattern, rule.Pattern);
        Assert.Equal(modifiers, rule.Modifiers);
        Assert.Equal("rules.txt", rule.Source);
        Assert.Equal(3, rule.Line);
    }

    [Theory]
    [InlineData("excludefoo", "does not start with a rule name")]
    [InlineData("x foo", "does not start with a rule name")]
    [InlineData("-", "has no pattern")]
    [InlineData("- ", "has no pattern")]
    [InlineData("+", "has no pattern")]
    [InlineData("merge", "names no file")]
    [InlineData("! foo", "takes no modifiers and no pattern")]
    [InlineData("-e foo", "'e' at position 2 is not a modifier of an exclude rule")]
    [InlineData("-n foo", "'n' at position 2")]
    [InlineData("-w foo", "'w' at position 2")]
    [InlineData("Hs foo", "'s' at position 2 is not a modifier of a hide rule")]
    [InlineData("Pr foo", "'r' at position 2 is not a modifier of a protect rule")]
    [InlineData(":! .x", "'!' at position 2 is not a modifier of a dir-merge rule")]
    [InlineData("-p,s foo", "',' at position 3")]
    [InlineData(":+- .x", "both the + and the - modifier")]
    [InlineData("-C foo", "takes no pattern")]
    [InlineData("- [abc", "without its closing ']'")]
    [InlineData("- /", "matches nothing")]
    public void A_malformed_rule_names_the_rule_the_file_the_line_and_the_problem(string text, string problem)
    {
        SyncException ex = Assert.Throws<SyncException>(() => SyncFilter.Parse([text]).Rules.Count);
        Assert.Equal(ErrorIds.InvalidFilterRule, ex.ErrorId);
        Assert.Equal(SyncErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal(text, ex.Target);
        Assert.Contains($"'{text}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("rule 1 given inline", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_in_a_merge_file_names_the_file_and_line()
    {
        using var tree = new TestTree();
        string file = TestTree.Write(tree.Root, "rules.txt", "# comment\n- ok\n\nbogus line\n");
        SyncException ex = Assert.Throws<SyncException>(() => SyncFilter.Parse([". " + file]));
        Assert.Equal(ErrorIds.InvalidFilterRule, ex.ErrorId);
        Assert.Contains($"'bogus line' ({file}, line 4)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_merge_file_is_FilterFileUnreadable()
    {
        SyncException ex = Assert.Throws<SyncException>(() => SyncFilter.Parse([". /nonexistent/rules"]));
        Assert.Equal(ErrorIds.FilterFileUnreadable, ex.ErrorId);
        Assert.Contains("/nonexistent/rules", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'. /nonexistent/rules'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_merge_file_is_read_once_in_place_with_comments_and_its_modifiers()
    {
        using var tree = new TestTree();
        string file = TestTree.Write(tree.Root, "rules.txt", "# c\n; c\n+ keep.o\r\n- *.o\n");
        SyncFilter filter = SyncFilter.Parse(["- first", ". " + file, "- last"]);
        Assert.Equal(["- first", "+ keep.o", "- *.o", "- last"], filter.Rules.Select(r => r.Text));
        Assert.Equal(file, filter.Rules[1].Source);
        Assert.Equal(3, filter.Rules[1].Line);
        Assert.Equal(4, filter.Rules[2].Line);

        string excludes = TestTree.Write(tree.Root, "excl.txt", "a.o\n+ b\n");
        SyncFilter dashes = SyncFilter.Parse([".-/ " + excludes]);
        Assert.Equal(["-/ a.o", "-/ + b"], dashes.Rules.Select(r => r.Text));

        SyncFilter words = SyncFilter.Parse([".w+ " + TestTree.Write(tree.Root, "w.txt", "a b\n#c\n")]);
        Assert.Equal(["+ a", "+ b", "+ #c"], words.Rules.Select(r => r.Text));

        SyncFilter self = SyncFilter.Parse([".e- " + excludes]);
        Assert.Equal(["- excl.txt", "- a.o", "- + b"], self.Rules.Select(r => r.Text));
    }

    [Fact]
    public void A_merge_rule_with_a_side_gives_it_to_its_rules_and_they_may_not_choose_one()
    {
        using var tree = new TestTree();
        string file = TestTree.Write(tree.Root, "r.txt", "- a\n+ b\n");
        SyncFilter filter = SyncFilter.Parse([".s " + file]);
        Assert.All(filter.Rules, r => Assert.Equal(FilterModifiers.SenderSide, r.Modifiers));
        TestTree.Write(tree.Root, "bad.txt", "H a\n");
        SyncException ex = Assert.Throws<SyncException>(() => SyncFilter.Parse([".r " + Path.Join(tree.Root, "bad.txt")]));
        Assert.Equal(ErrorIds.InvalidFilterRule, ex.ErrorId);
    }

    [Fact]
    public void Clear_empties_the_rules_before_it()
    {
        SyncFilter filter = SyncFilter.Parse(["- a", "+ b", "!", "- c"]);
        Assert.Equal(["- c"], filter.Rules.Select(r => r.Text));
        Assert.Equal(4, filter.Rules[0].Line);
    }

    [Fact]
    public void Dash_C_inserts_the_perishable_cvs_list_and_plus_C_as_includes()
    {
        SyncFilter filter = SyncFilter.Parse(["-C"]);
        Assert.True(filter.Rules.Count >= 36);
        Assert.All(filter.Rules.Take(36), r => Assert.True(r.IsPerishable && r.Type == FilterRuleType.Exclude));
        Assert.False(filter.Test("x.o", isDirectory: false));
        Assert.False(filter.Test(".git", isDirectory: true));
        Assert.True(filter.Test(".git", isDirectory: false));
        Assert.True(filter.Test("main.c", isDirectory: false));
        Assert.Equal("-p *.o", filter.Explain("a/x.o", isDirectory: false)!.Text);
        Assert.True(SyncFilter.Parse(["+C", "- *"]).Test("core", isDirectory: false));
    }

    [Theory]
    [InlineData("- *.o")]
    [InlineData("+ keep/***")]
    [InlineData("-/ /etc/passwd")]
    [InlineData("-! */")]
    [InlineData("+!/ x")]
    [InlineData("-sr x")]
    [InlineData("-p *.o")]
    [InlineData("H *.log")]
    [InlineData("Sp x")]
    [InlineData("P! keep")]
    [InlineData("R x")]
    [InlineData(":n- .excl")]
    [InlineData(":e .rsync-filter")]
    [InlineData(":C .cvsignore")]
    [InlineData(":w+s words")]
    [InlineData("-  leading space")]
    [InlineData("- trailing ")]
    public void ToString_round_trips_through_the_parser(string text)
    {
        SyncFilter filter = SyncFilter.Parse([text]);
        string written = filter.ToString();
        SyncFilter again = SyncFilter.Parse(written.TrimEnd('\n').Split('\n'));
        Assert.Equal(written, again.ToString());
        Assert.Equal(filter.Rules.Select(r => (r.Type, r.Pattern, r.Modifiers)), again.Rules.Select(r => (r.Type, r.Pattern, r.Modifiers)));
    }

    [Fact]
    public void Long_forms_are_written_in_the_short_form()
    {
        Assert.Equal("-p x\nH y\n: .f\n", SyncFilter.Parse(["exclude,p x", "hide y", "dir-merge .f"]).ToString());
    }

    [Theory]
    [InlineData("H x", true, false)]
    [InlineData("S x", true, false)]
    [InlineData("P x", false, true)]
    [InlineData("R x", false, true)]
    [InlineData("- x", true, true)]
    [InlineData("+ x", true, true)]
    [InlineData("-s x", true, false)]
    [InlineData("-r x", false, true)]
    [InlineData("-sr x", true, true)]
    public void Sides_follow_the_rule_type_and_modifiers(string text, bool sender, bool receiver)
    {
        FilterRule rule = FilterRule.Parse(text);
        Assert.Equal(sender, rule.AppliesToSender);
        Assert.Equal(receiver, rule.AppliesToReceiver);
        SyncFilter filter = SyncFilter.Parse([text]);
        bool include = rule.IsInclude;
        Assert.Equal(sender ? include : true, filter.Test("x", false, FilterSide.Sender));
        Assert.Equal(receiver ? include : true, filter.Test("x", false, FilterSide.Receiver));
    }

    [Fact]
    public void Delete_excluded_makes_rules_without_a_side_sender_only()
    {
        var filter = SyncFilter.Parse(["- a", "-r b", "P c"]);
        FilterContext receiver = filter.CreateContext(FilterSide.Receiver, null, deleteExcluded: true);
        Assert.True(receiver.IsIncluded("a", false));
        Assert.False(receiver.IsIncluded("b", false));
        Assert.False(receiver.IsIncluded("c", false));
        Assert.False(filter.CreateContext(FilterSide.Sender, null, deleteExcluded: true).IsIncluded("a", false));
    }

    [Fact]
    public void Negation_inverts_the_whole_match_including_directory_only()
    {
        SyncFilter filter = SyncFilter.Parse(["-! */"]);
        Assert.False(filter.Test("file", false));
        Assert.True(filter.Test("dir", true));
        SyncFilter notLog = SyncFilter.Parse(["-! *.log"]);
        Assert.True(notLog.Test("a.log", false));
        Assert.False(notLog.Test("a.txt", false));
    }

    [Fact]
    public void Perishable_rules_are_ignored_when_asked()
    {
        FilterContext context = SyncFilter.Parse(["-p *.o"]).CreateContext(FilterSide.Receiver, null);
        Assert.False(context.IsIncluded("x.o", false));
        Assert.True(context.IsIncluded("x.o", false, ignorePerishable: true));
    }

    [Fact]
    public void The_absolute_path_modifier_matches_below_the_context_root()
    {
        FilterContext context = SyncFilter.Parse(["-/ /srv/data/a/x"]).CreateContext(FilterSide.Sender, "/srv/data");
        Assert.False(context.IsIncluded("a/x", false));
        Assert.True(context.IsIncluded("x", false));
        Assert.True(SyncFilter.Parse(["-/ /srv/data/a/x"]).Test("a/x", false));
    }

    [Fact]
    public void Xattr_rules_never_match_paths()
    {
        Assert.True(SyncFilter.Parse(["-x *"]).Test("a", false));
    }
}
