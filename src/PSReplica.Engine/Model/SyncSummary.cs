namespace PSReplica;

/// <summary>Totals of one run, as rsync's --stats reports them.</summary>
public sealed class SyncSummary
{
    public string Source { get; set; } = string.Empty;

    public string Destination { get; set; } = string.Empty;

    /// <summary>Regular files, directories and links seen in the source.</summary>
    public long ItemsTotal { get; set; }

    public long FilesTotal { get; set; }

    public long Created { get; set; }

    public long Updated { get; set; }

    public long Deleted { get; set; }

    public long Linked { get; set; }

    public long MetadataUpdated { get; set; }

    /// <summary>Actions skipped by -Confirm, -MaxDelete or an I/O error.</summary>
    public long Skipped { get; set; }

    /// <summary>Sum of the source's regular file lengths.</summary>
    public long TotalBytes { get; set; }

    /// <summary>Literal bytes sent.</summary>
    public long BytesTransferred { get; set; }

    /// <summary>Bytes reused from basis files.</summary>
    public long BytesMatched { get; set; }

    /// <summary>rsync's speedup: total size divided by the bytes that had to be moved.</summary>
    public double Speedup => BytesTransferred == 0 ? (TotalBytes == 0 ? 1.0 : TotalBytes) : (double)TotalBytes / BytesTransferred;

    /// <summary>How long the run took, in seconds (to the millisecond): a number, so that it sorts, sums and goes through
    /// ConvertTo-Json and Export-Csv as one plain value.</summary>
    public double Duration { get; set; }

    public long Errors { get; set; }

    public bool DeletionsSkipped { get; set; }

    internal static double Seconds(TimeSpan elapsed) => Math.Round(elapsed.TotalSeconds, 3);

    internal void Count(SyncItem item)
    {
        switch (item.Action)
        {
            case SyncAction.Create: Created++; break;
            case SyncAction.Update: Updated++; break;
            case SyncAction.Delete: Deleted++; break;
            case SyncAction.Link: Linked++; break;
            case SyncAction.Metadata: MetadataUpdated++; break;
        }

        BytesTransferred += item.BytesTransferred;
        BytesMatched += item.BytesMatched;
    }
}
