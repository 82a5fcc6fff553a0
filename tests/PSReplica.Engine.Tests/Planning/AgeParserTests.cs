namespace PSReplica.Engine.Tests.Planning;

public sealed class AgeParserTests
{
    private static readonly DateTime s_start = new(2026, 6, 15, 12, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData("90s", 90.0)]
    [InlineData("15m", 15 * 60.0)]
    [InlineData("12h", 12 * 3600.0)]
    [InlineData("7d", 7 * 86400.0)]
    [InlineData("2w", 14 * 86400.0)]
    [InlineData("1M", 30 * 86400.0)]
    [InlineData("1y", 365 * 86400.0)]
    [InlineData("1h30m", 5400.0)]
    [InlineData("1.5h", 5400.0)]
    [InlineData("500ms", 0.5)]
    [InlineData(" 3d ", 3 * 86400.0)]
    [InlineData("0s", 0.0)]
    [InlineData("7.00:00:00", 7 * 86400.0)]
    [InlineData("01:30:00", 5400.0)]
    [InlineData("1:30", 5400.0)]
    public void Reads_ages_as_that_long_before_the_start(string text, double seconds) =>
        Assert.Equal(s_start.AddSeconds(-seconds), AgeParser.Cutoff(text, s_start));

    [Fact]
    public void Minutes_and_months_differ_by_case_as_in_rclone() =>
        Assert.NotEqual(AgeParser.Cutoff("1m", s_start), AgeParser.Cutoff("1M", s_start));

    [Theory]
    [InlineData("2026-06-01T08:00:00Z", "2026-06-01T08:00:00Z")]
    [InlineData("2026-06-01T08:00:00+02:00", "2026-06-01T06:00:00Z")]
    [InlineData("2026-06-01T08:00:00.1234567Z", "2026-06-01T08:00:00.1234567Z")]
    public void Reads_points_in_time_with_an_offset(string text, string utc) =>
        Assert.Equal(DateTime.Parse(utc, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal),
            AgeParser.Cutoff(text, s_start));

    [Theory]
    [InlineData("2026-06-01")]
    [InlineData("2026-06-01 08:30:00")]
    [InlineData("2026-06-01T08:30:00")]
    public void Reads_a_point_in_time_without_an_offset_as_local_time(string text) =>
        Assert.Equal(DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeLocal).ToUniversalTime(),
            AgeParser.Cutoff(text, s_start));

    [Fact]
    public void A_TimeSpan_is_that_long_before_the_start() =>
        Assert.Equal(s_start.AddDays(-2), AgeParser.Cutoff(TimeSpan.FromDays(2), s_start));

    [Theory]
    [InlineData("")]
    [InlineData("7")]
    [InlineData("7.5")]
    [InlineData("-7d")]
    [InlineData("7x")]
    [InlineData("d")]
    [InlineData("7 d")]
    [InlineData("-1.00:00:00")]
    [InlineData("yesterday")]
    [InlineData("99999999y")]
    public void Refuses_what_is_not_an_age(string text)
    {
        SyncException error = Assert.Throws<SyncException>(() => AgeParser.Cutoff(text, s_start));
        Assert.Equal(ErrorIds.InvalidAge, error.ErrorId);
        Assert.Equal(SyncErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void A_bare_number_says_which_unit_to_write()
    {
        SyncException error = Assert.Throws<SyncException>(() => AgeParser.Cutoff("7", s_start));
        Assert.Contains("7d", error.Message, StringComparison.Ordinal);
        Assert.Contains("7s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_TimeSpan_is_refused() =>
        Assert.Equal(ErrorIds.InvalidAge, Assert.Throws<SyncException>(() => AgeParser.Cutoff(TimeSpan.FromHours(-1), s_start)).ErrorId);
}
