using System.Text;

namespace PSReplica;

/// <summary>-FilesFrom: a list of relative paths, one per line or NUL-separated, turned into the filter rules that
/// select exactly those paths and their parent directories, without recursing into listed directories (rsync
/// --files-from, which implies --relative and, without an explicit -r, no recursion).</summary>
public static class FilesFromList
{
    /// <summary>Reads the list: NUL-separated when the file holds a NUL, else one path per line. As in rsync, empty
    /// lines and lines starting with '#' or ';' are ignored, and leading '/' and './' are dropped.</summary>
    public static IReadOnlyList<string> Read(string path)
    {
        string text;
        try
        {
            // The list holds names as bytes: one that is not UTF-8 is kept exactly (NameCodec), as the scanner lists it.
            byte[] bytes = File.ReadAllBytes(path);
            ReadOnlySpan<byte> content = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes.AsSpan(3) : bytes;
            text = Engine.Native.NameCodec.Decode(content);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SyncException(ErrorIds.FilesFromUnreadable, SyncErrorKind.ReadError, $"Cannot read the -FilesFrom list '{path}': {ex.Message}", path, ex);
        }

        bool nul = text.Contains('\0', StringComparison.Ordinal);
        var paths = new List<string>();
        foreach (string raw in nul ? text.Split('\0') : text.Split('\n'))
        {
            string entry = nul ? raw : raw.TrimEnd('\r');
            if (entry.Length == 0 || (!nul && (entry[0] == '#' || entry[0] == ';')))
            {
                continue;
            }

            while (entry.StartsWith('/') || entry.StartsWith("./", StringComparison.Ordinal))
            {
                entry = entry[(entry[0] == '/' ? 1 : 2)..];
            }

            entry = entry.TrimEnd('/');
            if (entry.Length > 0 && entry != ".")
            {
                paths.Add(entry);
            }
        }

        return paths;
    }

    /// <summary>Adds to <paramref name="builder"/> the rules that select exactly <paramref name="paths"/> and their parents:
    /// an anchored include for each, then an exclude of everything else.</summary>
    public static SyncFilterBuilder AddSelection(SyncFilterBuilder builder, IEnumerable<string> paths)
    {
        foreach (string pattern in IncludePatterns(paths))
        {
            builder.AddInclude(pattern);
        }

        return builder.AddExclude("*");
    }

    /// <summary>Include patterns (anchored) for every listed path and its parents, in list order; the caller closes
    /// them with an exclude of everything else.</summary>
    public static IReadOnlyList<string> IncludePatterns(IEnumerable<string> paths)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var patterns = new List<string>();
        foreach (string path in paths)
        {
            string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (int i = 0; i < parts.Length; i++)
            {
                string pattern = Pattern(parts.AsSpan(0, i + 1)) + (i < parts.Length - 1 ? "/" : "");
                if (seen.Add(pattern))
                {
                    patterns.Add(pattern);
                }
            }
        }

        return patterns;
    }

    /// <summary>The anchored pattern matching only the path of <paramref name="parts"/>: as in rsync, backslashes escape only
    /// in a pattern that holds a wildcard, so the whole pattern is escaped (every component, backslashes too) when any of
    /// its components has one, and left as it is otherwise.</summary>
    private static string Pattern(ReadOnlySpan<string> parts)
    {
        bool wildcard = false;
        foreach (string part in parts)
        {
            wildcard |= part.AsSpan().IndexOfAny('*', '?', '[') >= 0;
        }

        var pattern = new StringBuilder();
        foreach (string part in parts)
        {
            pattern.Append('/');
            foreach (char c in part)
            {
                if (wildcard && c is '*' or '?' or '[' or '\\')
                {
                    pattern.Append('\\');
                }

                pattern.Append(c);
            }
        }

        return pattern.ToString();
    }
}
