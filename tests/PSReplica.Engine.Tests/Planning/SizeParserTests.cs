namespace PSReplica.Engine.Tests.Planning;

public sealed class SizeParserTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1500", 1500L)]
    [InlineData("10K", 10240L)]
    [InlineData("10k", 10240L)]
    [InlineData("10KiB", 10240L)]
    [InlineData("10KB", 10000L)]
    [InlineData("1.5M", 1572864L)]
    [InlineData("1G", 1073741824L)]
    [InlineData("2MB", 2000000L)]
    [InlineData("1K+1", 1025L)]
    [InlineData("1K-1", 1023L)]
    [InlineData(".5K", 512L)]
    public void Reads_rsync_sizes(string text, long expected) => Assert.Equal(expected, SizeParser.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("K")]
    [InlineData("10Q")]
    [InlineData("-5")]
    [InlineData("1K+2")]
    [InlineData("99999999P")]
    public void Refuses_what_is_not_a_size(string text)
    {
        SyncException error = Assert.Throws<SyncException>(() => SizeParser.Parse(text));
        Assert.Equal(ErrorIds.InvalidSize, error.ErrorId);
    }
}
