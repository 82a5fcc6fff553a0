using System.Globalization;
using System.Text;

namespace PSReplica.Engine.Endpoints;

/// <summary>What a destination's file system can hold, detected per run (and per device where the destination tree crosses
/// a mount point): the planner compares times at its granularity and does not plan metadata it cannot hold, the receiver
/// does not try to set it, and each limit that touches what the run asked for is said once (a warning), not as an error
/// per item. Known types (FAT, exFAT, NTFS, HFS+, ISO 9660, UDF, SMB) come from a table by the type the kernel names;
/// any other is measured by a probe file written and removed in the destination when the run writes, and assumed to
/// hold everything (nanosecond times) when it does not (Get-SyncPlan, -WhatIf).</summary>
internal sealed record FileSystemTraits
{
    internal const long Second = 1_000_000_000;

    /// <summary>A file system that holds everything a run can ask for (ext4, XFS, Btrfs, tmpfs, ...).</summary>
    public static FileSystemTraits Full { get; } = new() { Type = "unknown" };

    /// <summary>The type the kernel names (/proc/self/mountinfo), e.g. "vfat", "fuse.fusefat", "ext4"; for a FUSE mount named
    /// only "fuseblk" (or "fuse"), with the file system its device's boot sector names: "fuseblk.exfat", "fuseblk.ntfs".</summary>
    public required string Type { get; init; }

    /// <summary>The finest step between two modification times the file system keeps, in nanoseconds (FAT: 2 s).</summary>
    public long TimeGranularity { get; init; } = 1;

    public bool Owners { get; init; } = true;

    public bool Permissions { get; init; } = true;

    public bool SymbolicLinks { get; init; } = true;

    public bool HardLinks { get; init; } = true;

    /// <summary>False where two names that differ only in case (or Unicode normalisation) are one file.</summary>
    public bool CaseSensitive { get; init; } = true;

    /// <summary>The longest name a directory entry holds, in bytes (or UTF-16 units where the file system counts them).</summary>
    public int MaxNameLength { get; init; } = 255;

    /// <summary>True where names follow Windows' rules (FAT, exFAT, NTFS): a name Windows forbids (<see cref="WindowsNames"/>)
    /// is not written, whatever the Linux driver would take. Known by type only, never measured.</summary>
    public bool WindowsNamesOnly { get; init; }

    /// <summary>False where a renamed file takes the time of the rename (fusefat): a receiver that writes under a
    /// temporary name sets the time again after the rename.</summary>
    public bool RenameKeepsTimes { get; init; } = true;

    /// <summary>How the traits were found: "known type", "measured" (a probe file) or "assumed" (not measured).</summary>
    public string Source { get; init; } = "assumed";

    /// <summary>The attribute fields a receiver leaves out here: owners and modes where the file system holds none.</summary>
    public Protocol.AttributeFields Unheld =>
        (Owners ? Protocol.AttributeFields.None : Protocol.AttributeFields.Uid | Protocol.AttributeFields.Gid)
        | (Permissions ? Protocol.AttributeFields.None : Protocol.AttributeFields.Mode);

    /// <summary>True when nothing is limited: the run behaves as it always did.</summary>
    public bool HoldsEverything => TimeGranularity <= 1 && Owners && Permissions && SymbolicLinks && HardLinks && CaseSensitive && !WindowsNamesOnly
        && RenameKeepsTimes;

    /// <summary>The traits of the file systems that are known by type, or null for another type.</summary>
    public static FileSystemTraits? Known(string type)
    {
        FileSystemTraits Fat(long granularity) => new()
        {
            Type = type,
            TimeGranularity = granularity,
            Owners = false,
            Permissions = false,
            SymbolicLinks = false,
            HardLinks = false,
            CaseSensitive = false,
            WindowsNamesOnly = true,
            Source = "known type",
        };

        return type switch
        {
            "vfat" or "msdos" or "fat" or "umsdos" => Fat(2 * Second),
            "fuse.fusefat" => Fat(2 * Second) with { RenameKeepsTimes = false },
            // The kernel's exFAT keeps 10 ms; exfat-fuse whole seconds (odd ones too), whatever the disk could hold.
            "exfat" => Fat(10_000_000),
            "fuse.exfat" or "fuseblk.exfat" => Fat(Second),

            // ntfs-3g (FUSE; named by the boot sector, see FileSystemProbe) keeps 100 ns, makes symbolic and hard links,
            // and keeps names that differ only in case apart; without its "permissions" option it reports every owner as
            // the mounting user and every mode as 777, and takes chown and chmod without keeping them.
            "ntfs" or "ntfs3" or "fuse.ntfs" or "fuseblk.ntfs" => new()
            {
                Type = type,
                TimeGranularity = 100,
                Owners = false,
                Permissions = false,
                WindowsNamesOnly = true,
                Source = "known type",
            },
            "hfsplus" => new() { Type = type, TimeGranularity = Second, CaseSensitive = false, Source = "known type" },
            "iso9660" or "udf" => new() { Type = type, TimeGranularity = Second, Source = "known type" },
            "ext2" or "ext3" or "ext4" or "xfs" or "btrfs" or "tmpfs" or "zfs" or "f2fs" or "overlay" or "ramfs" or "bcachefs" or "jfs" or "reiserfs" or "nilfs2"
                => new() { Type = type, Source = "known type" },
            _ => null,
        };
    }

    /// <summary>The granularity a probe's time came back at: the smallest common step that explains the difference between
    /// the time set (<paramref name="setNanoseconds"/>, odd seconds and .123456789) and the time read back.</summary>
    public static long GranularityOf(long setNanoseconds, long readNanoseconds)
    {
        long difference = Math.Abs(setNanoseconds - readNanoseconds);
        foreach (long step in new[] { 1L, 100, 1_000, 1_000_000, 10_000_000, Second, 2 * Second })
        {
            if (difference < step)
            {
                return step;
            }
        }

        // Further off than any file system's rounding: the time was not kept at all (a file system that ignores it).
        return 2 * Second;
    }

    /// <summary>Whether two modification times are equal at this granularity (FAT's 2 s: within less than 2 s).</summary>
    public bool SameTime(long secondsA, uint nanosecondsA, long secondsB, uint nanosecondsB)
    {
        long difference = ((secondsA - secondsB) * Second) + ((long)nanosecondsA - nanosecondsB);
        return Math.Abs(difference) < TimeGranularity;
    }

    /// <summary>For -Verbose: the type and what it cannot hold.</summary>
    public string Describe()
    {
        var text = new StringBuilder(Type);
        text.Append(" (").Append(Source).Append("): times kept to ").Append(Granularity(TimeGranularity));
        foreach ((bool holds, string what) in new[]
        {
            (Owners, "owners"), (Permissions, "permissions"), (SymbolicLinks, "symbolic links"), (HardLinks, "hard links"),
        })
        {
            if (!holds)
            {
                text.Append(", no ").Append(what);
            }
        }

        if (!RenameKeepsTimes)
        {
            text.Append(", a renamed file takes the time of the rename");
        }

        text.Append(CaseSensitive ? ", case-sensitive names" : ", case-insensitive names");
        text.Append(", names up to ").Append(MaxNameLength.ToString(CultureInfo.InvariantCulture)).Append(" bytes");
        if (WindowsNamesOnly)
        {
            text.Append(", no names Windows forbids");
        }

        return text.ToString();
    }

    /// <summary>"2 s", "10 ms", "100 ns".</summary>
    public static string Granularity(long nanoseconds) => nanoseconds switch
    {
        >= Second => (nanoseconds / Second).ToString(CultureInfo.InvariantCulture) + " s",
        >= 1_000_000 => (nanoseconds / 1_000_000).ToString(CultureInfo.InvariantCulture) + " ms",
        >= 1_000 => (nanoseconds / 1_000).ToString(CultureInfo.InvariantCulture) + " µs",
        _ => nanoseconds.ToString(CultureInfo.InvariantCulture) + " ns",
    };

    /// <summary>The name two entries of one directory share on a case-insensitive file system: NFC, then upper case
    /// (invariant culture), so that "README.TXT", "Readme.txt" and an NFD spelling of the same letters meet.</summary>
    public static string FoldName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string composed = name.IsNormalized(NormalizationForm.FormC) ? name : name.Normalize(NormalizationForm.FormC);
        return composed.ToUpperInvariant();
    }
}
