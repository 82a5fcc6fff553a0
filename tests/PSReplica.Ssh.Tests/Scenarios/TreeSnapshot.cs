using System.Globalization;
using System.Security.Cryptography;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>How finely a wiring carries modification times.</summary>
internal enum TimeGranularity
{
    /// <summary>Seconds and nanoseconds, symbolic links' own times and owners too (local, agent).</summary>
    Nanoseconds,

    /// <summary>Whole seconds, and no time or owner of a symbolic link's own (SFTP version 3: no lutimes, no lchown).</summary>
    WholeSeconds,

    /// <summary>Times to 100 ns (.NET's ticks) and no owners (the portable backend, which neither reads nor sets them).</summary>
    Ticks,
}

/// <summary>A case directory described line by line, for comparing one wiring's result with another's: each item's
/// relative path, type, permission bits, owner and group, modification time (to a granularity), content hash or link target, and
/// whether a file is still the inode it was before the run (replaced or written in place); then which names share an
/// inode. Times the run set to the present (rather than copied) read "now", so that two runs' "now"s compare equal.</summary>
internal static class TreeSnapshot
{
    /// <summary>Describes <paramref name="root"/>'s top-level directories in the given order (a missing one reads
    /// "absent"), each with its own root entry. <paramref name="before"/>, from <see cref="Inodes"/> before the run,
    /// marks files replaced by a new inode.</summary>
    public static List<string> Describe(string root, IEnumerable<string> directories, TimeGranularity granularity, long nowFrom,
        IReadOnlyDictionary<string, ulong>? before = null)
    {
        var lines = new List<string>();
        var inodes = new Dictionary<(ulong Device, ulong Inode), List<string>>();
        foreach (string directory in directories)
        {
            string top = Path.Join(root, directory);
            if (!Directory.Exists(top))
            {
                lines.Add(directory + " absent");
                continue;
            }

            foreach (string relative in Walk(top))
            {
                string name = relative.Length == 0 ? directory : directory + "/" + relative;
                string path = relative.Length == 0 ? top : Path.Join(top, relative);
                lines.Add(Line(name, path, granularity, nowFrom, before, inodes));
            }
        }

        var groups = new List<string>();
        foreach (List<string> names in inodes.Values)
        {
            if (names.Count > 1)
            {
                names.Sort(StringComparer.Ordinal);
                groups.Add("hard links: " + string.Join(" = ", names));
            }
        }

        groups.Sort(StringComparer.Ordinal);
        lines.AddRange(groups);
        return lines;
    }

    /// <summary>Every regular file's inode below <paramref name="root"/>'s <paramref name="directories"/>, by the name
    /// <see cref="Describe"/> gives it.</summary>
    public static Dictionary<string, ulong> Inodes(string root, IEnumerable<string> directories)
    {
        var inodes = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (string directory in directories)
        {
            string top = Path.Join(root, directory);
            if (!Directory.Exists(top))
            {
                continue;
            }

            foreach (string relative in Walk(top))
            {
                if (relative.Length > 0 && Posix.Stat(Path.Join(top, relative), follow: false, out StatInfo info) == 0 && info.FileType == Posix.SIfreg)
                {
                    inodes[directory + "/" + relative] = info.Inode;
                }
            }
        }

        return inodes;
    }

    /// <summary>The first difference between two descriptions, for a failure message that says what differs rather
    /// than only that something does.</summary>
    public static string Difference(List<string> expected, List<string> actual)
    {
        var missing = expected.Except(actual, StringComparer.Ordinal).ToList();
        var extra = actual.Except(expected, StringComparer.Ordinal).ToList();
        return "expected but not found: [" + string.Join("; ", missing.Take(8)) + (missing.Count > 8 ? "; ..." : string.Empty)
            + "]; found but not expected: [" + string.Join("; ", extra.Take(8)) + (extra.Count > 8 ? "; ..." : string.Empty) + "]";
    }

    /// <summary>The relative paths below <paramref name="top"/> (the empty string for itself), sorted ordinally; links are
    /// listed, never followed.</summary>
    private static List<string> Walk(string top)
    {
        var paths = new List<string> { string.Empty };
        foreach (string path in Directory.EnumerateFileSystemEntries(top, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            paths.Add(Path.GetRelativePath(top, path));
        }

        paths.Sort(StringComparer.Ordinal);
        return paths;
    }

    /// <summary>The item's user.* attributes and ACLs (-Preserve Acls, ExtendedAttributes), when it has any.</summary>
    private static string ExtendedAttributes(string path)
    {
        var scope = Engine.Metadata.XattrScope.User | Engine.Metadata.XattrScope.Acls;
        Engine.Metadata.ExtendedAttributeSet? set = Engine.Metadata.ExtendedAttributeSet.Read(Posix.XattrTarget.Path(path), scope, out int errno);
        Assert.True(set is not null, $"cannot read the attributes of {path}: errno {errno}");
        return set.Count == 0 ? string.Empty
            : " xattrs " + string.Join(";", set.Entries.Select(e => e.Name + "=" + Convert.ToHexString(e.Value)));
    }

    private static string Line(string name, string path, TimeGranularity granularity, long nowFrom, IReadOnlyDictionary<string, ulong>? before,
        Dictionary<(ulong, ulong), List<string>> inodes)
    {
        Assert.Equal(0, Posix.Stat(path, follow: false, out StatInfo info));
        string mode = Convert.ToString(info.Permissions, 8);
        string owner = granularity == TimeGranularity.Ticks ? "-"
            : info.Uid.ToString(CultureInfo.InvariantCulture) + ":" + info.Gid.ToString(CultureInfo.InvariantCulture);
        string time = info.MtimeSeconds >= nowFrom ? "now"
            : granularity == TimeGranularity.Nanoseconds
                ? info.MtimeSeconds.ToString(CultureInfo.InvariantCulture) + "." + info.MtimeNanoseconds.ToString("D9", CultureInfo.InvariantCulture)
            : granularity == TimeGranularity.Ticks
                ? info.MtimeSeconds.ToString(CultureInfo.InvariantCulture) + "." + (info.MtimeNanoseconds / 100).ToString("D7", CultureInfo.InvariantCulture)
                : info.MtimeSeconds.ToString(CultureInfo.InvariantCulture);
        switch (info.FileType)
        {
            case Posix.SIfdir:
                return $"D {name} {mode} {owner} {time}{ExtendedAttributes(path)}";

            case Posix.SIflnk:
                string target = new FileInfo(path).LinkTarget ?? "?";
                return granularity != TimeGranularity.WholeSeconds ? $"L {name} -> {target} {owner} {time}" : $"L {name} -> {target}";

            case Posix.SIfreg:
                if (info.Nlink > 1)
                {
                    if (!inodes.TryGetValue((info.Device, info.Inode), out List<string>? names))
                    {
                        inodes[(info.Device, info.Inode)] = names = [];
                    }

                    names.Add(name);
                }

                string replaced = before is null ? string.Empty
                    : !before.TryGetValue(name, out ulong old) ? " (new)"
                    : old == info.Inode ? " (same inode)" : " (replaced)";
                string hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))[..16];
                return $"F {name} {mode} {owner} {time} {info.Size} {hash}{replaced}{ExtendedAttributes(path)}";

            case Posix.SIfifo or Posix.SIfsock or Posix.SIfchr or Posix.SIfblk:
                // A node: its type and number, never its content (a FIFO is never opened).
                return $"N {name} {info.FileType >> 12} {info.Rdev >> 32}:{info.Rdev & 0xFFFF_FFFF} {mode} {owner} {time}";

            default:
                return $"? {name} type {info.FileType}";
        }
    }
}
