using System.Globalization;
using System.Text.RegularExpressions;

namespace PSReplica;

/// <summary>Reads sizes as rsync's --min-size, --max-size and --max-alloc do: a number (fractions allowed) with an
/// optional unit K, M, G, T or P, where K and KiB mean 1024 and KB means 1000, and an optional "+1" or "-1" adjustment;
/// a bare number is bytes.</summary>
public static partial class SizeParser
{
    [GeneratedRegex(@"^\s*(?<n>\d+(?:\.\d+)?|\.\d+)(?<unit>[KMGTP])?(?<kind>iB|B)?(?<adj>[+-]1)?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>The number of bytes <paramref name="text"/> stands for; throws <see cref="SyncException"/> (InvalidSize)
    /// when it is not a size.</summary>
    public static long Parse(string text)
    {
        Match match = Pattern().Match(text ?? string.Empty);
        if (!match.Success)
        {
            throw new SyncException(ErrorIds.InvalidSize, SyncErrorKind.InvalidArgument,
                $"'{text}' is not a size: use bytes or a number with K, M, G, T or P (1024-based; KB, MB ... are 1000-based).", text ?? string.Empty);
        }

        decimal number = decimal.Parse(match.Groups["n"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        if (match.Groups["unit"].Success)
        {
            int power = "KMGTP".IndexOf(char.ToUpperInvariant(match.Groups["unit"].Value[0]), StringComparison.Ordinal) + 1;
            decimal unit = match.Groups["kind"].Value.Equals("B", StringComparison.OrdinalIgnoreCase) ? 1000m : 1024m;
            for (int i = 0; i < power; i++)
            {
                number *= unit;
            }
        }

        number = decimal.Truncate(number);
        if (match.Groups["adj"].Success)
        {
            number += match.Groups["adj"].Value[0] == '+' ? 1 : -1;
        }

        if (number < 0 || number > long.MaxValue)
        {
            throw new SyncException(ErrorIds.InvalidSize, SyncErrorKind.InvalidArgument, $"The size '{text}' is out of range.", text ?? string.Empty);
        }

        return (long)number;
    }
}
