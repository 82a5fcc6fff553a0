namespace PSReplica.Engine.Endpoints;

/// <summary>What one wiring of a run (a local destination, an agent, SFTP) can honour. Every destination declares
/// one, and <see cref="Check"/> holds a run's options against it once, before anything is touched: an option the wiring
/// cannot carry out is refused with InvalidParameterCombination naming the option and the wiring, never left to
/// do nothing.</summary>
internal sealed record DestinationCapabilities
{
    /// <summary>How messages name the wiring, e.g. "a remote destination reached over SFTP".</summary>
    public required string Wiring { get; init; }

    /// <summary>-Preserve HardLinks: names of one group become hard links of each other.</summary>
    public bool HardLinks { get; init; }

    /// <summary>-Backup and -BackupDirectory.</summary>
    public bool Backups { get; init; }

    /// <summary>-LinkDest, -CompareDest and -CopyDest.</summary>
    public bool BasisDirectories { get; init; }

    /// <summary>-Partial and -PartialDirectory.</summary>
    public bool PartialFiles { get; init; }

    /// <summary>-DelayUpdates.</summary>
    public bool DelayUpdates { get; init; }

    /// <summary>-Inplace.</summary>
    public bool Inplace { get; init; }

    /// <summary>-Sparse: the receiver writes blocks of zeros as holes.</summary>
    public bool Sparse { get; init; }

    /// <summary>-RemoveSourceFiles: sources whose copies were verified are removed.</summary>
    public bool SourceRemoval { get; init; }

    /// <summary>-TransferMode Delta: changed files travel as deltas.</summary>
    public bool DeltaTransfer { get; init; }

    /// <summary>-Checksum: the destination's content can be hashed.</summary>
    public bool Checksums { get; init; }

    /// <summary>-Checksum with -LinkDest, -CompareDest or -CopyDest: a basis directory's files can be hashed too (they
    /// are where the run writes).</summary>
    public bool BasisChecksums { get; init; }

    /// <summary>-ModifyWindow -1: times are set and compared to the nanosecond.</summary>
    public bool SubsecondTimes { get; init; }

    /// <summary>-Preserve Owner and Group.</summary>
    public bool Owners { get; init; }

    /// <summary>Per-directory filter files (dir-merge rules, -UseFilterFiles) on the side this wiring lists.</summary>
    public bool FilterFiles { get; init; }

    /// <summary>-CopyLinks when the source is this wiring's side.</summary>
    public bool CopyLinks { get; init; }

    /// <summary>-OneFileSystem: the source's listing tells each directory's device, and a walk of it does not cross into
    /// another file system.</summary>
    public bool OneFileSystem { get; init; }

    /// <summary>-OneFileSystem with -Delete: the destination's listing tells each directory's device, so that deletion
    /// stops at its mount points as rsync -x's does.</summary>
    public bool DestinationMountPoints { get; init; }

    /// <summary>-Preserve Acls and ExtendedAttributes: listed, compared and written.</summary>
    public bool ExtendedAttributes { get; init; }

    /// <summary>-Preserve Attributes: Windows' file attributes listed on both sides, compared and written (the portable
    /// backend on Windows; no protocol carries them).</summary>
    public bool FileAttributes { get; init; }

    /// <summary>-ArchiveOnly and -ResetArchive: the source's listing tells each file's Archive attribute, which the run
    /// can clear (-ResetArchive also needs the copies verified: <see cref="SourceRemoval"/>).</summary>
    public bool ArchiveAttribute { get; init; }

    /// <summary>-Preserve Devices and Specials: devices, FIFOs and sockets listed with their types (and a device's number)
    /// and made at the destination by mknod.</summary>
    public bool Specials { get; init; }

    /// <summary>Why Windows' file attributes are refused: said after the refusal of an option that needs them.</summary>
    internal const string FileAttributesNote = "Windows file attributes are held only by the portable file-system backend on Windows, "
        + "and only a local source (-ArchiveOnly, -ResetArchive) or a local run (-Preserve Attributes) can use them.";

    /// <summary>The options of <paramref name="options"/> this wiring cannot honour, by parameter name (empty: all
    /// can be honoured).</summary>
    public List<string> Unsupported(SyncOptions options)
    {
        var refused = new List<string>();
        void Need(bool wanted, bool supported, string parameter)
        {
            if (wanted && !supported)
            {
                refused.Add(parameter);
            }
        }

        Need((options.Preserve & PreserveOptions.HardLinks) != 0, HardLinks, "-Preserve HardLinks");
        Need(options.Backup, Backups, options.BackupDirectory is null ? "-Backup" : "-BackupDirectory");
        Need(options.LinkDest.Count > 0, BasisDirectories, "-LinkDest");
        Need(options.CompareDest.Count > 0, BasisDirectories, "-CompareDest");
        Need(options.CopyDest.Count > 0, BasisDirectories, "-CopyDest");
        Need(options.KeepsPartial, PartialFiles, options.PartialDirectory is null ? "-Partial" : "-PartialDirectory");
        Need(options.DelayUpdates, DelayUpdates, "-DelayUpdates");
        Need(options.Inplace, Inplace, "-Inplace");
        Need(options.Sparse, Sparse, "-Sparse");
        Need(options.RemoveSourceFiles, SourceRemoval, "-RemoveSourceFiles");
        Need(options.TransferMode == TransferMode.Delta, DeltaTransfer, "-TransferMode Delta");
        Need(options.CompareMode == CompareMode.Checksum, Checksums, "-Checksum");
        Need(options.CompareMode == CompareMode.Checksum && options.LinkDest.Count + options.CompareDest.Count + options.CopyDest.Count > 0,
            BasisChecksums, "-Checksum with a basis directory");
        Need(options.ModifyWindow < 0, SubsecondTimes, "-ModifyWindow -1");
        Need((options.Preserve & (PreserveOptions.Owner | PreserveOptions.Group)) != 0, Owners, "-Preserve Owner/Group");
        Need(options.Filter.HasDirMerge, FilterFiles, "-UseFilterFiles (dir-merge rules)");
        Need(options.CopyLinks, CopyLinks, "-CopyLinks");
        Need(options.OneFileSystem, OneFileSystem, "-OneFileSystem");
        Need(options.OneFileSystem && options.Delete, DestinationMountPoints, "-OneFileSystem with -Delete");
        Need((options.Preserve & PreserveOptions.Acls) != 0, ExtendedAttributes, "-Preserve Acls");
        Need((options.Preserve & PreserveOptions.ExtendedAttributes) != 0, ExtendedAttributes, "-Preserve ExtendedAttributes");
        Need((options.Preserve & PreserveOptions.Attributes) != 0, FileAttributes, "-Preserve Attributes");
        Need((options.Preserve & PreserveOptions.Devices) != 0, Specials, "-Preserve Devices");
        Need((options.Preserve & PreserveOptions.Specials) != 0, Specials, "-Preserve Specials");
        Need(options.ArchiveOnly, ArchiveAttribute, "-ArchiveOnly");
        Need(options.ResetArchive, ArchiveAttribute && SourceRemoval, "-ResetArchive");
        return refused;
    }

    /// <summary>Refuses, before anything is touched, the first option this wiring cannot honour.</summary>
    /// <exception cref="SyncException">InvalidParameterCombination naming the option and the wiring.</exception>
    public void Check(SyncOptions options)
    {
        List<string> refused = Unsupported(options);
        if (refused.Count > 0)
        {
            bool attributes = refused.Exists(r => r is "-Preserve Attributes" or "-ArchiveOnly" or "-ResetArchive");
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                $"{string.Join(", ", refused)} cannot be used with {Wiring}."
                + (attributes ? " " + FileAttributesNote : string.Empty), refused[0]);
        }
    }
}
