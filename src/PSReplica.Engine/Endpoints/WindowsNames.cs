namespace PSReplica.Engine.Endpoints;

/// <summary>The names Windows cannot hold, by its documented naming conventions ("Naming Files, Paths, and Namespaces"):
/// a destination whose file system follows them (<see cref="FileSystemTraits.WindowsNamesOnly"/>: FAT, exFAT, NTFS)
/// gets such a source name refused up front, as one error for the item. Linux drivers differ in what they take: fusefat
/// refuses the characters (EPERM) but stores a trailing dot or space and the device names as given, ntfs-3g without
/// windows_names stores everything; Windows could not read those back, so the rule is Windows', not the driver's.</summary>
internal static class WindowsNames
{
    private static readonly string[] s_devices = ["CON", "PRN", "AUX", "NUL"];

    /// <summary>Null when Windows allows <paramref name="name"/> (one directory entry, never "." or ".."), else why not,
    /// for an error message: "it holds the character ':'", "it ends in a dot", "CON is a device name".</summary>
    public static string? Reason(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (char c in name)
        {
            if (c < ' ')
            {
                return $"it holds the control character U+{(int)c:X4}";
            }

            if (c is '<' or '>' or ':' or '"' or '/' or '\\' or '|' or '?' or '*')
            {
                return $"it holds the character '{c}'";
            }
        }

        if (name.EndsWith('.'))
        {
            return "it ends in a dot";
        }

        if (name.EndsWith(' '))
        {
            return "it ends in a space";
        }

        // A device name is reserved in every directory, also followed by an extension: NUL.txt and NUL.tar.gz are NUL.
        int dot = name.IndexOf('.', StringComparison.Ordinal);
        ReadOnlySpan<char> stem = dot < 0 ? name : name.AsSpan(0, dot);
        return IsDevice(stem) ? $"{stem.ToString().ToUpperInvariant()} is a device name" : null;
    }

    /// <summary>CON, PRN, AUX, NUL, COM1-9 and LPT1-9 in any case, and COM and LPT with the superscript digits ¹ ² ³,
    /// which Windows takes as port numbers too (the page lists them since 2023). Not COM0 and LPT0: the page listed
    /// them for a while, and took them back in 2025 as never reserved. Nor CONIN$ and CONOUT$: they are CreateFile's
    /// names for the console, which the page does not list among the names reserved in every directory.</summary>
    private static bool IsDevice(ReadOnlySpan<char> stem)
    {
        if (stem.Length == 3)
        {
            foreach (string device in s_devices)
            {
                if (stem.Equals(device, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }

        return stem.Length == 4
            && (stem[..3].Equals("COM", StringComparison.OrdinalIgnoreCase) || stem[..3].Equals("LPT", StringComparison.OrdinalIgnoreCase))
            && stem[3] is (>= '1' and <= '9') or '\u00B9' or '\u00B2' or '\u00B3';
    }
}
