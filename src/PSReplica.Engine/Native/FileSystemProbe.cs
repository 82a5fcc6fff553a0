using System.Collections.Concurrent;
using System.Globalization;
using PSReplica.Engine.Endpoints;

namespace PSReplica.Engine.Native;

/// <summary>Finds what a local file system can hold (<see cref="FileSystemTraits"/>): its type from the kernel's mount
/// table (/proc/self/mountinfo, by the device a directory is on), then the table of known types; for another type, when
/// the run may write, a probe in the directory itself: a file made exclusively under a temporary name (no link followed),
/// its time set and read back, renamed and read back again, its mode and (as root) owner changed and read back, a
/// symbolic link and a hard link to it tried, its name looked up in upper case, everything removed again, and the
/// directory's own time set back.</summary>
internal static class FileSystemProbe
{
    /// <summary>Probe time: odd seconds and .123456789, so that FAT's 2 s, 1 s, 10 ms, 1 µs and 100 ns steps each leave
    /// a difference of their own.</summary>
    private const long ProbeSeconds = 1_234_567_891;
    private const uint ProbeNanoseconds = 123_456_789;

    private static readonly ConcurrentDictionary<ulong, Protocol.AttributeFields> s_unheld = new();
    private static readonly System.Buffers.SearchValues<char> s_octal = System.Buffers.SearchValues.Create("01234567");

    /// <summary>The traits of the file system <paramref name="directory"/> (a directory's full path) is on, whose device
    /// is <paramref name="device"/>. With <paramref name="measure"/> a type not in the table is measured by a probe
    /// there; else it is assumed to hold everything.</summary>
    public static FileSystemTraits Detect(string directory, ulong device, bool measure)
    {
        FileSystemTraits known = Describe(directory, device);
        if (!measure || known.Source == Known)
        {
            return Backend(known);
        }

        SafeFileHandle? handle = Posix.Open(directory, Posix.ORdOnly | Posix.ODirectory | Posix.ONoFollow, 0, out _);
        if (handle is null)
        {
            return Backend(known);
        }

        using (handle)
        {
            return Backend(Measure(handle, known) ?? known);
        }
    }

    /// <summary>What the backend in use can hold of what the file system can: the portable backend sets no owners and
    /// keeps times to 100 ns (and, on Windows, no POSIX modes and no names Windows forbids, whatever the volume).</summary>
    private static FileSystemTraits Backend(FileSystemTraits traits) => !FileSystemBackend.IsPortable ? traits : traits with
    {
        Owners = false,
        Permissions = traits.Permissions && !OperatingSystem.IsWindows(),
        TimeGranularity = Math.Max(traits.TimeGranularity, 100),
        WindowsNamesOnly = traits.WindowsNamesOnly || OperatingSystem.IsWindows(),
    };

    /// <summary>As <see cref="Detect(string, ulong, bool)"/> for a directory already open (the agent's, opened without
    /// following links): the probe is made through this descriptor, never through a path.</summary>
    public static FileSystemTraits Detect(SafeFileHandle directory, bool measure)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (Posix.StatAt(directory, string.Empty, out StatInfo stat) != 0)
        {
            return FileSystemTraits.Full;
        }

        string path = Posix.RealPath(Posix.DescriptorPath(directory), out _) ?? Posix.DescriptorPath(directory);
        FileSystemTraits known = Describe(path, stat.Device);
        return Backend(!measure || known.Source == Known ? known : Measure(directory, known) ?? known);
    }

    private const string Known = "known type";

    /// <summary>What the type alone says (the table), else everything held, "assumed".</summary>
    private static FileSystemTraits Describe(string directory, ulong device)
    {
        // Btrfs gives each subvolume an anonymous device that the mount table does not list: then by the mount point.
        string? type = TypeOf(device) ?? TypeByMountPoint(directory);

        // Once per run and device: a device number outlives its mount (a loop device, an anonymous FUSE device, or
        // /dev/sdb1 when another disk is plugged in may hold another file system now), so what a receiver leaves out by
        // the device is found again.
        s_unheld.TryRemove(device, out _);
        int? nameMax = NameMax(directory);
        if (type is not null && FileSystemTraits.Known(type) is { } known)
        {
            return known with { MaxNameLength = nameMax ?? known.MaxNameLength };
        }

        return FileSystemTraits.Full with { Type = type ?? "unknown", MaxNameLength = nameMax ?? 255 };
    }

    /// <summary>The attribute fields a file system of a known type cannot hold (owners, modes), by the device an item is on:
    /// a receiver leaves them out instead of failing per item, also where the planner did not know (an agent's receiver
    /// under an older controller). Types not in the table: none.</summary>
    public static Protocol.AttributeFields Unheld(ulong device) => s_unheld.GetOrAdd(device, static d =>
        TypeOf(d) is { } type && FileSystemTraits.Known(type) is { } known ? known.Unheld : Protocol.AttributeFields.None);

    /// <summary>The type of the mount whose device is <paramref name="device"/> (statx's major and minor, as StatInfo.Device holds them), from
    /// /proc/self/mountinfo, read each time; null when it is not listed (no /proc, another platform).</summary>
    public static string? TypeOf(ulong device)
    {
        // StatInfo.Device is statx's major in the high and minor in the low 32 bits.
        uint major = (uint)(device >> 32);
        uint minor = (uint)device;
        string wanted = major.ToString(CultureInfo.InvariantCulture) + ":" + minor.ToString(CultureInfo.InvariantCulture);
        try
        {
            foreach (string line in File.ReadLines("/proc/self/mountinfo"))
            {
                // id parent major:minor root mountpoint options [optional fields...] - type source super-options
                string[] fields = line.Split(' ');
                if (fields.Length < 7 || fields[2] != wanted)
                {
                    continue;
                }

                int separator = Array.IndexOf(fields, "-", 6);
                if (separator > 0 && separator + 1 < fields.Length)
                {
                    return TypeIn(fields, separator);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // No mount table to read: the type stays unknown.
        }

        return null;
    }

    /// <summary>The type a mountinfo line names after its separator. Where the kernel names only "fuse" or "fuseblk" (exfat-fuse
    /// and ntfs-3g give no subtype, and neither the source nor the super options say more), the file system its source's boot
    /// sector names is added as a subtype would be: "fuseblk.exfat", "fuseblk.ntfs".</summary>
    private static string TypeIn(string[] fields, int separator)
    {
        string type = fields[separator + 1];
        return type is "fuse" or "fuseblk" && separator + 2 < fields.Length && BootSector.FileSystemOf(Unescape(fields[separator + 2])) is { } named
            ? type + "." + named
            : type;
    }

    /// <summary>statfs(2)'s f_namelen: the longest name the file system takes, in bytes.</summary>
    private static int? NameMax(string directory) => Posix.NameMax(directory);

    /// <summary>The type of the mount whose mount point is the longest prefix of <paramref name="path"/> (mountinfo escapes
    /// blanks and backslashes in it as octal).</summary>
    private static string? TypeByMountPoint(string path)
    {
        string[]? best = null;
        int bestSeparator = 0;
        int bestLength = -1;
        try
        {
            foreach (string line in File.ReadLines("/proc/self/mountinfo"))
            {
                string[] fields = line.Split(' ');
                int separator = Array.IndexOf(fields, "-", 6);
                if (fields.Length < 7 || separator < 0 || separator + 1 >= fields.Length)
                {
                    continue;
                }

                string mountPoint = Unescape(fields[4]);
                bool under = mountPoint == "/" || path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);
                if (under && mountPoint.Length >= bestLength)
                {
                    best = fields;
                    bestSeparator = separator;
                    bestLength = mountPoint.Length;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return best is null ? null : TypeIn(best, bestSeparator);
    }

    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var text = new System.Text.StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && field.AsSpan(i + 1, 3).IndexOfAnyExcept(s_octal) < 0)
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }

        return text.ToString();
    }

    /// <summary>The probe through a directory descriptor; null when it could not be made (a read-only destination, no
    /// permission): then nothing is known beyond the type.</summary>
    internal static FileSystemTraits? Measure(SafeFileHandle parent, FileSystemTraits assumed)
    {
        using var directory = new DescriptorProbeDirectory(parent);
        return Measure(directory, assumed);
    }

    /// <summary>The probe, the same through a descriptor or over SFTP: a file made exclusively under a temporary name,
    /// its time set to <see cref="ProbeSeconds"/> (and <see cref="ProbeNanoseconds"/> where the calls carry them) and
    /// read back, renamed and read back again, its mode and (where this side may) owner changed and read back, a symbolic
    /// and a hard link to it tried, its name looked up in upper case; then all of it removed, and the directory's own time
    /// set back where the probe changed it. Null when the probe file could not be made.</summary>
    internal static FileSystemTraits? Measure(IProbeDirectory directory, FileSystemTraits assumed)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string name = Receiving.PendingFile.TempName("psreplica-probe");
        string link = name + "-l";
        string hard = name + "-h";
        string renamed = name + "-r";
        // The probe's files come and go in the directory, which the kernel then stamps with the time: it is set back
        // after, or the next run would find the directory's time changed.
        long? directoryTime = directory.ModifiedNanoseconds(string.Empty);
        if (!directory.TryCreate(name))
        {
            return null;
        }

        try
        {
            long probe = (ProbeSeconds * FileSystemTraits.Second) + (directory.CarriesNanoseconds ? ProbeNanoseconds : 0);
            long granularity = 2 * FileSystemTraits.Second;
            bool renameKeepsTimes = true;
            if (directory.SetModified(name, probe) && directory.ModifiedNanoseconds(name) is long kept)
            {
                granularity = FileSystemTraits.GranularityOf(probe, kept);
                if (granularity < 2 * FileSystemTraits.Second && kept % (2 * FileSystemTraits.Second) == 0)
                {
                    // An odd second never comes back: FAT's 2 s, rounded up rather than down.
                    granularity = 2 * FileSystemTraits.Second;
                }

                // Renamed as a receiver's temporary file is: some file systems stamp the time of the rename (fusefat).
                if (directory.Rename(name, renamed))
                {
                    renameKeepsTimes = directory.ModifiedNanoseconds(renamed) is not long moved || moved == kept;
                    directory.Rename(renamed, name);
                }
            }

            bool permissions = directory.SetMode(name, 0x1A0) && directory.Mode(name) == 0x1A0
                && directory.SetMode(name, 0x180) && directory.Mode(name) == 0x180;
            bool owners = !directory.MayChangeOwners(name)
                || (directory.SetOwner(name, 1, 1) && directory.Owner(name) == (1u, 1u));
            bool symbolicLinks = directory.SymbolicLink(name, link);
            bool hardLinks = directory.HardLink(name, hard);
            string upper = name.ToUpperInvariant();
            bool caseSensitive = upper == name || !directory.Exists(upper);
            return assumed with
            {
                TimeGranularity = granularity,
                Permissions = permissions,
                Owners = owners,
                SymbolicLinks = symbolicLinks,
                HardLinks = hardLinks,
                CaseSensitive = caseSensitive,
                RenameKeepsTimes = renameKeepsTimes,
                Source = "measured",
            };
        }
        finally
        {
            foreach (string probe in new[] { hard, link, renamed, name })
            {
                directory.Remove(probe);
            }

            // Only where it changed: a FAT root holds no time, and fusefat dies when one is set on it.
            if (directoryTime is long before && directory.ModifiedNanoseconds(string.Empty) is long after && after != before)
            {
                directory.SetModified(string.Empty, before);
            }
        }
    }

    /// <summary>A probe's directory through its descriptor (no link followed): the probe file is changed through the
    /// descriptor its exclusive create gave.</summary>
    private sealed class DescriptorProbeDirectory(SafeFileHandle parent) : IProbeDirectory, IDisposable
    {
        private SafeFileHandle? _file;

        public bool CarriesNanoseconds => true;

        public bool TryCreate(string name)
        {
            _file = Posix.OpenAt(parent, name, Posix.OWrOnly | Posix.OCreat | Posix.OExcl | Posix.ONoFollow, 0x180, out _);
            return _file is not null;
        }

        public long? ModifiedNanoseconds(string name) => Posix.StatAt(parent, name, out StatInfo stat) == 0
            ? (stat.MtimeSeconds * FileSystemTraits.Second) + stat.MtimeNanoseconds : null;

        public bool SetModified(string name, long nanoseconds)
        {
            long seconds = Math.DivRem(nanoseconds, FileSystemTraits.Second, out long rest);
            return name.Length == 0 ? Posix.SetModificationTimeHandle(parent, seconds, rest) == 0 : Posix.SetModificationTime(File, seconds, rest) == 0;
        }

        public bool Rename(string from, string to) => Posix.RenameAt(parent, from, to) == 0;

        public bool SetMode(string name, int mode) => Posix.Fchmod(File, mode) == 0;

        public int? Mode(string name) => Posix.StatAt(File, string.Empty, out StatInfo stat) == 0 ? stat.Permissions : null;

        public bool MayChangeOwners(string name) => Posix.IsElevated;

        public bool SetOwner(string name, uint uid, uint gid) => Posix.Fchown(File, uid, gid) == 0;

        public (uint Uid, uint Gid)? Owner(string name) => Posix.StatAt(File, string.Empty, out StatInfo stat) == 0 ? (stat.Uid, stat.Gid) : null;

        public bool SymbolicLink(string target, string name) => Posix.SymlinkAt(target, parent, name) == 0;

        public bool HardLink(string existing, string name) => Posix.LinkAt(parent, existing, parent, name) == 0;

        public bool Exists(string name) => Posix.StatAt(parent, name, out _) == 0;

        public void Remove(string name) => Posix.UnlinkAt(parent, name, isDirectory: false);

        public void Dispose() => _file?.Dispose();

        /// <summary>The probe file, opened by <see cref="TryCreate"/> (its name is the only one changed through it).</summary>
        private SafeFileHandle File => _file ?? throw new InvalidOperationException("The probe file was not made.");
    }
}

/// <summary>The directory a <see cref="FileSystemProbe"/> is made in, and the few calls it makes there, each on a name in
/// it (the empty name: the directory itself); false or null where a call failed. Through a descriptor locally, over SFTP
/// for an SFTP destination, so that both measure with one algorithm.</summary>
internal interface IProbeDirectory
{
    /// <summary>Whether times set and read carry nanoseconds (SFTP version 3 carries whole seconds).</summary>
    bool CarriesNanoseconds { get; }

    /// <summary>Makes an empty file exclusively (no link followed).</summary>
    bool TryCreate(string name);

    /// <summary>The modification time, in nanoseconds since the epoch.</summary>
    long? ModifiedNanoseconds(string name);

    bool SetModified(string name, long nanoseconds);

    bool Rename(string from, string to);

    bool SetMode(string name, int mode);

    /// <summary>The permission bits.</summary>
    int? Mode(string name);

    /// <summary>Whether this side may give a file away (root): only then are owners tried.</summary>
    bool MayChangeOwners(string name);

    bool SetOwner(string name, uint uid, uint gid);

    (uint Uid, uint Gid)? Owner(string name);

    bool SymbolicLink(string target, string name);

    /// <summary>A hard link to <paramref name="existing"/>; true where one cannot even be asked for (taken as held).</summary>
    bool HardLink(string existing, string name);

    bool Exists(string name);

    void Remove(string name);
}
