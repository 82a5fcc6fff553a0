using System.Globalization;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Execution;

/// <summary>Names of the temporary files an update writes beside its target: ".~psr" + 8 hex digits + "~" + the
/// target's name, cut to fit the 255-byte name limit. The prefix is how the next run recognises leftovers.</summary>
internal static class TempFileNames
{
    private const string Prefix = ".~psr";
    private const int MaxNameBytes = 255;

    // Not RandomNumberGenerator: on Linux that loads OpenSSL, which a server given the native agent may lack (the agent
    // then aborts with "No usable version of libssl was found"). The names need not be secret: each temporary file is
    // created exclusively and without following links, so a guessed name only fails, never redirects a write.
    private static readonly uint s_start = (uint)Random.Shared.Next();
    private static int s_counter;

    public static string For(string targetName)
    {
        // Unique within the process by the counter, across processes by the random start; no syscall per name.
        uint tag = unchecked(s_start + (uint)Interlocked.Increment(ref s_counter) * 2654435761u);
        string head = Prefix + tag.ToString("x8", CultureInfo.InvariantCulture) + "~";
        string name = targetName;
        int budget = MaxNameBytes - head.Length;
        if (NameCodec.GetByteCount(name) > budget)
        {
            // Cut by whole characters (and whole escaped bytes: NameCodec) so the temp name is a prefix of the name's bytes.
            name = name[..NameCodec.PrefixWithin(name, budget)];
        }

        return head + name;
    }

    public static bool IsTemporary(string name)
    {
        if (name.Length < Prefix.Length + 9 || !name.StartsWith(Prefix, StringComparison.Ordinal) || name[Prefix.Length + 8] != '~')
        {
            return false;
        }

        for (int i = Prefix.Length; i < Prefix.Length + 8; i++)
        {
            if (!char.IsAsciiHexDigitLower(name[i]) && !char.IsAsciiDigit(name[i]))
            {
                return false;
            }
        }

        return true;
    }
}
