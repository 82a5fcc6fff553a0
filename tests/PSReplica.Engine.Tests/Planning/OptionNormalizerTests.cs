namespace PSReplica.Engine.Tests.Planning;

/// <summary>What -FilesFrom and the backup options imply for the rest of the options; the cmdlets only pass these on.</summary>
public sealed class OptionNormalizerTests : IDisposable
{
    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void FilesFrom_selects_the_listed_paths_and_their_parents_only()
    {
        SyncOptions options = OptionNormalizer.ApplyFilesFrom(Options(), List("a/b.txt\nc\n"), []);

        Assert.True(options.Filter.Test("a", isDirectory: true));
        Assert.True(options.Filter.Test("a/b.txt", isDirectory: false));
        Assert.True(options.Filter.Test("c", isDirectory: false));
        Assert.False(options.Filter.Test("a/other.txt", isDirectory: false));
        Assert.False(options.Filter.Test("d", isDirectory: true));
        Assert.Equal("- *", options.Filter.Rules[^1].Text);
    }

    [Fact]
    public void FilesFrom_comes_after_the_given_rules_so_their_excludes_still_apply()
    {
        SyncOptions given = Options() with { Filter = new SyncFilterBuilder().AddExclude("*.tmp").Build() };

        SyncOptions options = OptionNormalizer.ApplyFilesFrom(given, List("keep.txt\nscratch.tmp\n"), []);

        Assert.True(options.Filter.Test("keep.txt", isDirectory: false));
        Assert.False(options.Filter.Test("scratch.tmp", isDirectory: false));
        Assert.Equal("- *.tmp", options.Filter.Rules[0].Text);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void FilesFrom_drops_Delete_with_a_warning(bool delete, bool deleteExcluded)
    {
        var warnings = new List<string>();

        SyncOptions options = OptionNormalizer.ApplyFilesFrom(Options() with { Delete = delete, DeleteExcluded = deleteExcluded }, List("a\n"), warnings);

        Assert.False(options.Delete);
        Assert.Equal(deleteExcluded, options.DeleteExcluded);
        Assert.Equal("-FilesFrom transfers the listed paths without recursing; nothing is deleted (as with rsync --files-from).", Assert.Single(warnings));
    }

    [Fact]
    public void FilesFrom_without_Delete_warns_of_nothing()
    {
        var warnings = new List<string>();
        OptionNormalizer.ApplyFilesFrom(Options(), List("a\n"), warnings);
        Assert.Empty(warnings);
    }

    [Fact]
    public void FilesFrom_reports_an_unreadable_list_after_its_warning()
    {
        var warnings = new List<string>();
        SyncException error = Assert.Throws<SyncException>(() =>
            OptionNormalizer.ApplyFilesFrom(Options() with { Delete = true }, Path.Join(_tree.Root, "missing.list"), warnings));
        Assert.Equal(ErrorIds.FilesFromUnreadable, error.ErrorId);
        Assert.Single(warnings);
    }

    [Fact]
    public void No_backup_option_leaves_the_options_alone()
    {
        SyncOptions given = Options() with { Delete = true };
        Assert.Same(given, OptionNormalizer.ApplyBackups(given, backup: false, backupDirectory: null, backupSuffix: ".bak"));
    }

    [Fact]
    public void A_backup_directory_implies_Backup()
    {
        SyncOptions options = OptionNormalizer.ApplyBackups(Options(), backup: false, backupDirectory: "old", backupSuffix: null);

        Assert.True(options.Backup);
        Assert.Equal("old", options.BackupDirectory);
        Assert.Null(options.BackupSuffix);
    }

    [Fact]
    public void An_empty_suffix_without_a_backup_directory_is_refused()
    {
        SyncException error = Assert.Throws<SyncException>(() => OptionNormalizer.ApplyBackups(Options(), backup: true, backupDirectory: null, backupSuffix: ""));

        Assert.Equal(ErrorIds.InvalidBackupOptions, error.ErrorId);
        Assert.Equal(SyncErrorKind.InvalidArgument, error.Kind);
        Assert.Equal("-BackupSuffix cannot be empty without -BackupDirectory: the backup would take the file's own name.", error.Message);
    }

    [Fact]
    public void An_empty_suffix_with_a_backup_directory_is_kept()
    {
        SyncOptions options = OptionNormalizer.ApplyBackups(Options(), backup: true, backupDirectory: "old", backupSuffix: "");
        Assert.Equal("", options.BackupSuffix);
    }

    [Theory]
    [InlineData(null, "P *~")]
    [InlineData(".bak", "P *.bak")]
    public void With_Delete_backups_beside_their_files_are_protected_by_their_suffix(string? suffix, string rule)
    {
        SyncOptions options = OptionNormalizer.ApplyBackups(Options() with { Delete = true }, backup: true, backupDirectory: null, backupSuffix: suffix);

        Assert.Equal(rule, options.Filter.Rules[^1].Text);
        Assert.Same(options.Filter.Rules[^1], options.Filter.Explain("sub/file.txt" + (suffix ?? "~"), isDirectory: false, FilterSide.Receiver));
    }

    [Theory]
    [InlineData("old")]
    [InlineData("nested/old/")]
    public void With_Delete_a_backup_directory_inside_the_destination_is_protected_by_its_anchored_path(string directory)
    {
        SyncOptions options = OptionNormalizer.ApplyBackups(Options() with { Delete = true }, backup: true, backupDirectory: directory, backupSuffix: null);

        Assert.Equal("P /" + directory.TrimEnd('/') + "/", options.Filter.Rules[^1].Text);
    }

    [Fact]
    public void An_absolute_backup_directory_inside_the_destination_is_protected_relative_to_it()
    {
        SyncOptions options = OptionNormalizer.ApplyBackups(Options() with { Delete = true }, backup: true,
            backupDirectory: Path.Join(_tree.Destination, "old"), backupSuffix: null);

        Assert.Equal("P /old/", options.Filter.Rules[^1].Text);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Without_Delete_or_with_DeleteExcluded_no_rule_is_added(bool delete, bool deleteExcluded)
    {
        SyncOptions given = Options() with { Delete = delete, DeleteExcluded = deleteExcluded };

        SyncOptions options = OptionNormalizer.ApplyBackups(given, backup: true, backupDirectory: null, backupSuffix: null);

        Assert.Same(given.Filter, options.Filter);
        Assert.True(options.Backup);
    }

    [Fact]
    public void A_backup_directory_outside_the_destination_needs_no_rule()
    {
        SyncOptions given = Options() with { Delete = true };

        SyncOptions options = OptionNormalizer.ApplyBackups(given, backup: true, backupDirectory: Path.Join(_tree.Root, "elsewhere"), backupSuffix: null);

        Assert.Same(given.Filter, options.Filter);
    }

    [Fact]
    public void A_sibling_whose_name_starts_with_the_destination_is_outside_it()
    {
        SyncOptions given = Options() with { Delete = true };

        SyncOptions options = OptionNormalizer.ApplyBackups(given, backup: true, backupDirectory: _tree.Destination + "-old", backupSuffix: null);

        Assert.Same(given.Filter, options.Filter);
    }

    [Fact]
    public void With_Delete_a_second_run_keeps_the_backups_the_first_made()
    {
        _tree.Src("a.txt", "new content", 2_000_000_000);
        _tree.Dst("a.txt", "old", 1_000_000_000);
        SyncOptions options = OptionNormalizer.ApplyBackups(Options() with { Delete = true }, backup: true, backupDirectory: null, backupSuffix: null);

        LocalReplicator.Run(options, new RecordingObserver(), CancellationToken.None);
        Assert.Equal("old", File.ReadAllText(Path.Join(_tree.Destination, "a.txt~")));
        var second = new RecordingObserver();
        LocalReplicator.Run(options, second, CancellationToken.None);

        Assert.Empty(second.Errors);
        Assert.DoesNotContain(second.Items, i => i.Action == SyncAction.Delete);
        Assert.True(File.Exists(Path.Join(_tree.Destination, "a.txt~")));
    }

    private SyncOptions Options() => new() { Source = _tree.Source, Destination = _tree.Destination };

    private string List(string content)
    {
        string path = Path.Join(_tree.Root, "list-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, content);
        return path;
    }
}
