namespace PSReplica.Engine.Tests.Planning;

public sealed class FilesFromListTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "psreplica-filesfrom-" + Guid.NewGuid().ToString("n"));

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void Reads_lines_skipping_comments_and_leading_slashes()
    {
        File.WriteAllText(_file, "# comment\n; other\n\n/a/b\r\n./c/\nd\n.\n");
        Assert.Equal(["a/b", "c", "d"], FilesFromList.Read(_file));
    }

    [Fact]
    public void Reads_NUL_separated_names_verbatim()
    {
        File.WriteAllText(_file, "#not a comment\0with\nnewline\0");
        Assert.Equal(["#not a comment", "with\nnewline"], FilesFromList.Read(_file));
    }

    [Fact]
    public void Includes_each_parent_once_and_escapes_only_patterns_that_hold_a_wildcard()
    {
        // A wildcard anywhere in the path makes the whole pattern one whose backslashes escape: the file's backslash too.
        Assert.Equal(["/a/", "/a/b", "/a/c", "/x\\*y/", "/x\\*y/z\\\\"], FilesFromList.IncludePatterns(["a/b", "a/c", "x*y/z\\"]));
        Assert.Equal(["/back\\slash"], FilesFromList.IncludePatterns(["back\\slash"]));
        Assert.Equal(["/plain/", "/plain/c\\="], FilesFromList.IncludePatterns(["plain/c\\="]));
    }

    [Fact]
    public void Reports_an_unreadable_list()
    {
        SyncException error = Assert.Throws<SyncException>(() => FilesFromList.Read(_file + ".missing"));
        Assert.Equal(ErrorIds.FilesFromUnreadable, error.ErrorId);
    }
}
