using System.Globalization;
using System.Text;
using PSReplica.Engine.Planning;

namespace PSReplica.Engine.Execution;

/// <summary>The wording of a run's -Verbose account that more than one part of the run needs: the plan's counts, the
/// totals, sizes and durations. Called only when verbose output is wanted. Numbers are written the invariant way, so a
/// log reads the same on every machine.</summary>
internal static class RunReport
{
    /// <summary>"Planned in 0.12 s: 3 to create, 1 to update; 1.2 MiB of 40.0 MiB to transfer".</summary>
    public static string Plan(SyncPlan plan, TimeSpan elapsed)
    {
        // Counted as they were added: a streamed plan's first actions may be carried out and gone by now.
        PlanActions actions = plan.Actions;
        long create = actions.CountOf(SyncAction.Create), update = actions.CountOf(SyncAction.Update), delete = actions.CountOf(SyncAction.Delete),
            link = actions.CountOf(SyncAction.Link), metadata = actions.CountOf(SyncAction.Metadata);

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Planned in {Seconds(elapsed)}: ");
        if (plan.Count == 0)
        {
            text.Append("nothing to do");
        }
        else
        {
            var counts = new List<string>(5);
            Add(counts, create, "to create");
            Add(counts, update, "to update");
            Add(counts, delete, "to delete");
            Add(counts, link, "to hard-link");
            Add(counts, metadata, "metadata only");
            text.AppendJoin(", ", counts);
            text.Append(CultureInfo.InvariantCulture, $"; {Bytes(plan.BytesToTransfer)} of {Bytes(plan.TotalBytes)} to transfer");
        }

        if (plan.ScanErrors.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"; {plan.ScanErrors.Count} scan error(s)");
        }

        return text.ToString();
    }

    /// <summary>"Carried out the plan in 0.80 s: 3 created, 1 updated, 0 skipped, 0 error(s); 1.2 MiB sent, 38.8 MiB reused from the
    /// destination". The time is the plan's execution; the plan line gave the scan's.</summary>
    public static string Totals(SyncSummary summary, bool dryRun)
    {
        var counts = new List<string>(5);
        Add(counts, summary.Created, dryRun ? "to create" : "created");
        Add(counts, summary.Updated, dryRun ? "to update" : "updated");
        Add(counts, summary.Deleted, dryRun ? "to delete" : "deleted");
        Add(counts, summary.Linked, dryRun ? "to hard-link" : "hard-linked");
        Add(counts, summary.MetadataUpdated, "metadata only");
        if (counts.Count == 0)
        {
            counts.Add("no change");
        }

        string head = dryRun ? "Went through the plan as a dry run (nothing was changed)" : "Carried out the plan";
        string tail = dryRun ? string.Empty : $"; {Bytes(summary.BytesTransferred)} sent, {Bytes(summary.BytesMatched)} reused from the destination";
        return string.Create(CultureInfo.InvariantCulture,
            $"{head} in {Seconds(TimeSpan.FromSeconds(summary.Duration))}: {string.Join(", ", counts)}, {summary.Skipped} skipped, {summary.Errors} error(s){tail}");
    }

    /// <summary>"0.12 s".</summary>
    public static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    /// <summary>"512 bytes", "1.2 KiB", "40.0 MiB", "3.1 GiB".</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        1 => "1 byte",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " bytes",
    };

    private static void Add(List<string> counts, long count, string what)
    {
        if (count > 0)
        {
            counts.Add(count.ToString(CultureInfo.InvariantCulture) + " " + what);
        }
    }
}
