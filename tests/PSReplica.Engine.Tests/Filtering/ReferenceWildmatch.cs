using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PSReplica.Engine.Tests.Filtering;

/// <summary>An independent oracle for rsync's wildmatch: translates a pattern into a .NET regular expression
/// following the rules of rsync(1) "INCLUDE/EXCLUDE PATTERN RULES" and lib/wildmatch.c's class parsing
/// ('*' stops at '/', '**' does not, '?' and classes never match '/', a trailing backslash and a malformed
/// class match nothing). ASCII only, as rsync matches bytes.</summary>
internal static class ReferenceWildmatch
{
    private static readonly ConcurrentDictionary<string, Regex?> s_cache = new(StringComparer.Ordinal);

    public static bool Match(string pattern, string text)
    {
        Regex? regex = s_cache.GetOrAdd(pattern, static p => Translate(p) is { } rx
            ? new Regex(rx, RegexOptions.Singleline | RegexOptions.CultureInvariant)
            : null);
        return regex is not null && regex.IsMatch(text);
    }

    /// <summary>The regular expression, or null when the pattern can match nothing.</summary>
    public static string? Translate(string p)
    {
        var rx = new StringBuilder("^");
        int i = 0;
        while (i < p.Length)
        {
            char c = p[i];
            switch (c)
            {
                case '\\':
                    if (i + 1 >= p.Length)
                    {
                        return null;
                    }

                    rx.Append(Escape(p[i + 1]));
                    i += 2;
                    break;

                case '?':
                    rx.Append("[^/]");
                    i++;
                    break;

                case '*':
                    int stars = 0;
                    while (i < p.Length && p[i] == '*')
                    {
                        stars++;
                        i++;
                    }

                    rx.Append(stars >= 2 ? ".*" : "[^/]*");
                    break;

                case '[':
                    string? set = Class(p, ref i);
                    if (set is null)
                    {
                        return null;
                    }

                    rx.Append(set);
                    break;

                default:
                    rx.Append(Escape(c));
                    i++;
                    break;
            }
        }

        return rx.Append("\\z").ToString();
    }

    /// <summary>Parses the class at p[i] == '[' as wildmatch.c does; leaves i after its ']'.</summary>
    private static string? Class(string p, ref int i)
    {
        var members = new bool[128];
        i++;
        bool negate = false;
        if (i < p.Length && (p[i] == '!' || p[i] == '^'))
        {
            negate = true;
            i++;
        }

        char prev = '\0';
        while (true)
        {
            if (i >= p.Length)
            {
                return null;
            }

            char c = p[i];
            if (c == '\\')
            {
                if (++i >= p.Length)
                {
                    return null;
                }

                c = p[i];
                Add(members, c, c);
            }
            else if (c == '-' && prev != '\0' && i + 1 < p.Length && p[i + 1] != ']')
            {
                char hi = p[++i];
                if (hi == '\\')
                {
                    if (++i >= p.Length)
                    {
                        return null;
                    }

                    hi = p[i];
                }

                Add(members, prev, hi);
                c = '\0';
            }
            else if (c == '[' && i + 1 < p.Length && p[i + 1] == ':')
            {
                int start = i + 2;
                int close = p.IndexOf(']', start);
                if (close < 0)
                {
                    return null;
                }

                if (close - start - 1 < 0 || p[close - 1] != ':')
                {
                    // No ":]" before the first ']': the '[' is an ordinary member.
                    Add(members, '[', '[');
                }
                else
                {
                    if (!AddPosix(members, p[start..(close - 1)]))
                    {
                        return null;
                    }

                    i = close;
                    c = '\0';
                }
            }
            else
            {
                Add(members, c, c);
            }

            prev = c;
            i++;
            if (i < p.Length && p[i] == ']')
            {
                i++;
                break;
            }
        }

        var set = new StringBuilder(negate ? "[^/" : "[");
        int count = 0;
        for (int ch = 0; ch < members.Length; ch++)
        {
            if (members[ch] && ch != '/')
            {
                set.Append("\\u").Append(ch.ToString("x4", CultureInfo.InvariantCulture));
                count++;
            }
        }

        if (count == 0 && !negate)
        {
            return "(?!)";
        }

        return set.Append(']').ToString();
    }

    private static void Add(bool[] members, char lo, char hi)
    {
        for (int c = lo; c <= hi && c < members.Length; c++)
        {
            members[c] = true;
        }
    }

    private static bool AddPosix(bool[] members, string name)
    {
        var ranges = new List<(char, char)>();
        switch (name)
        {
            case "alnum": ranges.AddRange([('0', '9'), ('A', 'Z'), ('a', 'z')]); break;
            case "alpha": ranges.AddRange([('A', 'Z'), ('a', 'z')]); break;
            case "blank": ranges.AddRange([(' ', ' '), ('\t', '\t')]); break;
            case "cntrl": ranges.AddRange([('\0', '\x1f'), ('\x7f', '\x7f')]); break;
            case "digit": ranges.Add(('0', '9')); break;
            case "graph": ranges.Add(('!', '~')); break;
            case "lower": ranges.Add(('a', 'z')); break;
            case "print": ranges.Add((' ', '~')); break;
            case "punct": ranges.AddRange([('!', '/'), (':', '@'), ('[', '`'), ('{', '~')]); break;
            case "space": ranges.AddRange([('\t', '\r'), (' ', ' ')]); break;
            case "upper": ranges.Add(('A', 'Z')); break;
            case "xdigit": ranges.AddRange([('0', '9'), ('A', 'F'), ('a', 'f')]); break;
            default: return false;
        }

        foreach ((char lo, char hi) in ranges)
        {
            Add(members, lo, hi);
        }

        return true;
    }

    private static string Escape(char c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture);
}
