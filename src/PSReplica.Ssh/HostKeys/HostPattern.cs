namespace PSReplica.Ssh;

/// <summary>
/// OpenSSH's host pattern language, shared by known_hosts and ssh_config: <c>*</c> and <c>?</c> wildcards,
/// case-insensitive, a leading <c>!</c> negates, and a negated match vetoes the whole list.
/// </summary>
/// <remarks>Follows the behaviour of OpenSSH match.c (match_pattern, match_pattern_list); written anew.</remarks>
public static class HostPattern
{
    /// <summary>Matches a list of patterns (split by the caller): false if any negated pattern matches.</summary>
    public static bool MatchList(string name, ReadOnlySpan<string> patterns)
    {
        bool matched = false;
        foreach (string raw in patterns)
        {
            if (raw.Length == 0)
            {
                continue;
            }

            bool negated = raw[0] == '!';
            string pattern = negated ? raw[1..] : raw;
            if (Match(name, pattern))
            {
                if (negated)
                {
                    return false;
                }

                matched = true;
            }
        }

        return matched;
    }

    /// <summary>One glob pattern against one name, ignoring ASCII case.</summary>
    public static bool Match(string name, string pattern)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(pattern);

        // Iterative glob with one backtrack point: linear in practice, no recursion on hostile patterns.
        int n = 0;
        int p = 0;
        int starP = -1;
        int starN = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(name[n])))
            {
                n++;
                p++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starN = n;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                n = ++starN;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
