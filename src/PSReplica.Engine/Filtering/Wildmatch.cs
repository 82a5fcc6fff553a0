using System.Buffers;
using System.Text;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Filtering;

/// <summary>rsync's wildcard matching: <c>*</c> within a component, <c>**</c> across components, <c>?</c>, and
/// <c>[...]</c> classes (ranges, <c>!</c>/<c>^</c> negation, POSIX <c>[:name:]</c>, backslash escapes).
/// Follows the semantics of rsync lib/wildmatch.c; the code is this project's own.</summary>
internal static class Wildmatch
{
    /// <summary>True when <paramref name="pattern"/> matches all of <paramref name="text"/>.</summary>
    public static bool Match(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        if (!pattern.ContainsAnyExceptInRange('\0', '\x7f') && !text.ContainsAnyExceptInRange('\0', '\x7f'))
        {
            return MatchCore(pattern, text) == Result.Match;
        }

        // rsync matches bytes, not characters: '?' takes one byte of a UTF-8 sequence and '[日]' is a class of three
        // bytes. Both sides are rewritten as their UTF-8 bytes, one char per byte, so the same matcher gives rsync's answer.
        return MatchCore(AsBytes(pattern), AsBytes(text)) == Result.Match;
    }

    /// <summary>The UTF-8 bytes of <paramref name="value"/>, one char per byte (Latin-1 maps bytes to chars one to one).</summary>
    private static string AsBytes(ReadOnlySpan<char> value)
    {
        byte[] bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length));
        try
        {
            // A name's bytes (NameCodec): a byte that is not UTF-8 is one byte here too, as rsync matches it.
            int length = NameCodec.GetBytes(value, bytes);
            return Encoding.Latin1.GetString(bytes, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>True when the pattern holds a wildcard character that needs the matcher
    /// (rsync matches a pattern without '*', '?' or '[' literally, backslashes included.)</summary>
    public static bool HasWildcards(string pattern) => pattern.AsSpan().IndexOfAny("*?[") >= 0;

    private enum Result
    {
        Match,
        NoMatch,

        // The text ran out or a '/' stopped a single '*': no later start position can match either.
        AbortAll,
        AbortToDoubleStar,
    }

    private static Result MatchCore(ReadOnlySpan<char> p, ReadOnlySpan<char> t)
    {
        int pi = 0;
        int ti = 0;
        while (pi < p.Length)
        {
            char pc = p[pi];
            if (ti >= t.Length && pc != '*')
            {
                return Result.AbortAll;
            }

            switch (pc)
            {
                case '\\':
                    pi++;
                    if (pi >= p.Length)
                    {
                        // A trailing backslash escapes nothing: the pattern matches nothing (as rsync's wildmatch).
                        return Result.AbortAll;
                    }

                    if (t[ti] != p[pi])
                    {
                        return Result.NoMatch;
                    }

                    break;

                case '?':
                    if (t[ti] == '/')
                    {
                        return Result.NoMatch;
                    }

                    break;

                case '*':
                    bool doubleStar = pi + 1 < p.Length && p[pi + 1] == '*';
                    while (pi + 1 < p.Length && p[pi + 1] == '*')
                    {
                        pi++;
                    }

                    pi++;
                    if (pi == p.Length)
                    {
                        // A trailing '*' matches the rest unless it would have to cross a '/'.
                        return doubleStar || t[ti..].IndexOf('/') < 0 ? Result.Match : Result.NoMatch;
                    }

                    for (; ; ti++)
                    {
                        Result r = MatchCore(p[pi..], t[ti..]);
                        if (r != Result.NoMatch && (!doubleStar || r != Result.AbortToDoubleStar))
                        {
                            return r;
                        }

                        if (ti >= t.Length)
                        {
                            return Result.AbortAll;
                        }

                        if (!doubleStar && t[ti] == '/')
                        {
                            return Result.AbortToDoubleStar;
                        }
                    }

                case '[':
                    if (!MatchClass(p, ref pi, t[ti], out bool malformed))
                    {
                        return malformed ? Result.AbortAll : Result.NoMatch;
                    }

                    break;

                default:
                    if (t[ti] != pc)
                    {
                        return Result.NoMatch;
                    }

                    break;
            }

            pi++;
            ti++;
        }

        return ti == t.Length ? Result.Match : Result.NoMatch;
    }

    /// <summary>Matches one character against the class starting at p[pi] ('['); leaves pi on its closing ']'.</summary>
    private static bool MatchClass(ReadOnlySpan<char> p, ref int pi, char c, out bool malformed)
    {
        malformed = false;
        if (c == '/')
        {
            // A class never matches the separator; still skip the class to keep the pattern consistent.
            _ = SkipClass(p, ref pi);
            return false;
        }

        int i = pi + 1;
        bool negate = false;
        if (i < p.Length && (p[i] == '!' || p[i] == '^'))
        {
            negate = true;
            i++;
        }

        bool matched = false;
        bool first = true;
        char prev = '\0';
        for (; ; i++)
        {
            if (i >= p.Length)
            {
                malformed = true;
                return false;
            }

            char pc = p[i];
            if (pc == ']' && !first)
            {
                break;
            }

            first = false;
            if (pc == '\\' && i + 1 < p.Length)
            {
                pc = p[++i];
                matched |= pc == c;
            }
            else if (pc == '-' && prev != '\0' && i + 1 < p.Length && p[i + 1] != ']')
            {
                char hi = p[++i];
                if (hi == '\\' && i + 1 < p.Length)
                {
                    hi = p[++i];
                }

                matched |= c >= prev && c <= hi;
                prev = '\0';
                continue;
            }
            else if (pc == '[' && i + 1 < p.Length && p[i + 1] == ':' && PosixClassEnd(p, i) is int end and >= 0)
            {
                matched |= MatchPosixClass(p.Slice(i + 2, end), c, out bool known);
                if (!known)
                {
                    malformed = true;
                    return false;
                }

                i += end + 3;
                prev = '\0';
                continue;
            }
            else
            {
                matched |= pc == c;
            }

            prev = pc;
        }

        pi = i;
        return matched != negate;
    }

    /// <summary>For "[:" at p[i]: the class name's length when the first ']' after it closes ":]", else -1
    /// (then the '[' is an ordinary character, as in rsync's wildmatch).</summary>
    internal static int PosixClassEnd(ReadOnlySpan<char> p, int i)
    {
        int close = p[(i + 2)..].IndexOf(']');
        return close > 0 && p[i + 2 + close - 1] == ':' ? close - 1 : -1;
    }

    private static bool SkipClass(ReadOnlySpan<char> p, ref int pi)
    {
        int i = pi + 1;
        if (i < p.Length && (p[i] == '!' || p[i] == '^'))
        {
            i++;
        }

        bool first = true;
        for (; i < p.Length; i++)
        {
            if (p[i] == '\\')
            {
                i++;
            }
            else if (p[i] == '[' && i + 1 < p.Length && p[i + 1] == ':' && PosixClassEnd(p, i) is int end and >= 0)
            {
                i += end + 3;
            }
            else if (p[i] == ']' && !first)
            {
                pi = i;
                return true;
            }

            first = false;
        }

        return false;
    }

    private static bool MatchPosixClass(ReadOnlySpan<char> name, char c, out bool known)
    {
        known = true;
        return name switch
        {
            "alnum" => char.IsAsciiLetterOrDigit(c),
            "alpha" => char.IsAsciiLetter(c),
            "blank" => c is ' ' or '\t',
            "cntrl" => c < ' ' || c == '\x7f',
            "digit" => char.IsAsciiDigit(c),
            "graph" => c > ' ' && c < '\x7f',
            "lower" => char.IsAsciiLetterLower(c),
            "print" => c >= ' ' && c < '\x7f',
            "punct" => IsPunctuation(c),
            "space" => c is ' ' or '\t' or '\n' or '\r' or '\v' or '\f',
            "upper" => char.IsAsciiLetterUpper(c),
            "xdigit" => char.IsAsciiHexDigit(c),
            _ => Unknown(out known),
        };

        static bool Unknown(out bool known)
        {
            known = false;
            return false;
        }
    }

    private static bool IsPunctuation(char c) => c is (> ' ' and < '0') or (> '9' and < 'A') or (> 'Z' and < 'a') or (> 'z' and < '\x7f');
}
