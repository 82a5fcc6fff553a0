using System.Globalization;
using System.Text.RegularExpressions;

namespace PSReplica;

/// <summary>Reads -MaxAge and -MinAge into the instant they cut at: an age before the run's start, or a point in time.
/// An age is rclone's duration (a sequence of numbers, fractions allowed, each with a unit: ms, s, m, h, d, w, M = 30
/// days, y = 365 days, as rclone counts them; e.g. <c>90s</c>, <c>1h30m</c>, <c>7d</c>, <c>1.5w</c>) or a TimeSpan's
/// text (<c>7.00:00:00</c>, <c>01:30:00</c>); a point in time is a date, with a time and an offset if wanted
/// (<c>2026-06-01</c>, <c>2026-06-01T08:00:00Z</c>; without an offset, local time). A bare number is refused: robocopy's
/// /MAXAGE:7 means days, rclone's --max-age 7 seconds, and guessing either would select the wrong files.</summary>
public static partial class AgeParser
{
    [GeneratedRegex(@"^(?:(?:\d+(?:\.\d+)?|\.\d+)(?:ms|s|m|h|d|w|M|y))+$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"(?<n>\d+(?:\.\d+)?|\.\d+)(?<unit>ms|s|m|h|d|w|M|y)", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPart();

    [GeneratedRegex(@"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex BareNumber();

    /// <summary>The instant (UTC) that <paramref name="text"/> cuts at, for a run that started at
    /// <paramref name="referenceUtc"/>: that long before it, or the point in time given.</summary>
    /// <exception cref="SyncException">InvalidAge: not an age or a point in time, a bare number, a negative age, or out of
    /// range.</exception>
    public static DateTime Cutoff(string text, DateTime referenceUtc)
    {
        string trimmed = (text ?? string.Empty).Trim();
        if (BareNumber().IsMatch(trimmed))
        {
            throw Invalid(text, $"'{text}' has no unit: write {trimmed.TrimStart('+')}d for days (robocopy's /MAXAGE:n) or {trimmed.TrimStart('+')}s for seconds (rclone's --max-age n).");
        }

        if (DurationPattern().IsMatch(trimmed))
        {
            double seconds = DurationSeconds(trimmed);
            return Before(referenceUtc, seconds, text);
        }

        // A TimeSpan's text ("7.00:00:00", "1:30"); a date has a '-' or a '/' in it, which no positive TimeSpan has.
        if (trimmed.IndexOfAny(['-', '/']) < 0
            && TimeSpan.TryParseExact(trimmed, ["c", "g"], CultureInfo.InvariantCulture, out TimeSpan span))
        {
            return Cutoff(span, referenceUtc);
        }

        if (trimmed.Length > 0 && char.IsAsciiDigit(trimmed[0])
            && DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal | DateTimeStyles.AllowWhiteSpaces, out DateTimeOffset when))
        {
            return when.UtcDateTime;
        }

        throw Invalid(text, $"'{text}' is not an age or a point in time: use a duration such as 90s, 15m, 12h, 7d, 2w, 1M (30 days) or 1y "
            + "(365 days), a TimeSpan such as 7.00:00:00, or a date such as 2026-06-01 or 2026-06-01T08:00:00Z.");
    }

    /// <summary>A length of time for <paramref name="parameter"/> (-SettleTime, -RescanInterval): rclone's duration, as an
    /// age is written (<c>250ms</c>, <c>30s</c>, <c>1h30m</c>), or a TimeSpan's text (<c>00:00:00.250</c>). A bare number is
    /// refused, as for an age: milliseconds or seconds would be a guess.</summary>
    /// <exception cref="SyncException">InvalidDuration.</exception>
    public static TimeSpan Duration(string text, string parameter)
    {
        string trimmed = (text ?? string.Empty).Trim();
        if (BareNumber().IsMatch(trimmed))
        {
            // TimeSpan would read "250" as 250 days.
        }
        else if (DurationPattern().IsMatch(trimmed))
        {
            double seconds = DurationSeconds(trimmed);
            if (seconds * TimeSpan.TicksPerSecond < TimeSpan.MaxValue.Ticks)
            {
                return TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
            }
        }
        else if (TimeSpan.TryParseExact(trimmed, ["c", "g"], CultureInfo.InvariantCulture, out TimeSpan span) && span >= TimeSpan.Zero)
        {
            return span;
        }

        string hint = BareNumber().IsMatch(trimmed) ? $"'{text}' has no unit: write {trimmed.TrimStart('+')}ms or {trimmed.TrimStart('+')}s." : $"'{text}' is not a length of time.";
        throw new SyncException(ErrorIds.InvalidDuration, SyncErrorKind.InvalidArgument,
            $"-{parameter}: {hint} Use a duration such as 250ms, 30s, 15m or 1h, or a TimeSpan such as 00:00:00.250.", text ?? string.Empty);
    }

    /// <summary>The instant (UTC) <paramref name="age"/> before <paramref name="referenceUtc"/>.</summary>
    /// <exception cref="SyncException">InvalidAge: a negative age, or one reaching before year 1.</exception>
    public static DateTime Cutoff(TimeSpan age, DateTime referenceUtc) =>
        Before(referenceUtc, age.TotalSeconds, age.ToString("c", CultureInfo.InvariantCulture));

    private static DateTime Before(DateTime referenceUtc, double seconds, string? text)
    {
        if (seconds < 0)
        {
            throw Invalid(text, $"The age '{text}' is negative; give how long ago, or a point in time.");
        }

        double ticks = Math.Round(seconds * TimeSpan.TicksPerSecond);
        if (ticks > referenceUtc.Ticks)
        {
            throw Invalid(text, $"The age '{text}' is out of range.");
        }

        return new DateTime(referenceUtc.Ticks - (long)ticks, DateTimeKind.Utc);
    }

    /// <summary>The seconds a duration that matches <see cref="DurationPattern"/> adds up to (<c>1h30m</c>: 5,400).</summary>
    private static double DurationSeconds(string duration)
    {
        double seconds = 0;
        foreach (Match part in DurationPart().Matches(duration))
        {
            seconds += double.Parse(part.Groups["n"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture) * UnitSeconds(part.Groups["unit"].Value);
        }

        return seconds;
    }

    private static double UnitSeconds(string unit) => unit switch
    {
        "ms" => 0.001,
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "M" => 30 * 86_400,
        _ => 365 * 86_400,
    };

    private static SyncException Invalid(string? text, string message) =>
        new(ErrorIds.InvalidAge, SyncErrorKind.InvalidArgument, message, text ?? string.Empty);
}
