using System;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;

namespace PSReplica.Commands.Hosting;

/// <summary>Turns engine progress into Write-Progress records: overall files and bytes with time remaining, and a
/// child record for a large file. Called on the pipeline thread only.</summary>
internal sealed class ProgressReporter
{
    private const int OverallId = 1;
    private const int FileId = 2;
    private const long LargeFile = 16L << 20;

    private readonly Cmdlet _cmdlet;
    private readonly string _activity;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _shown;
    private bool _fileShown;

    public ProgressReporter(Cmdlet cmdlet, string activity)
    {
        _cmdlet = cmdlet;
        _activity = activity;
    }

    public void Report(SyncProgress progress)
    {
        switch (progress.Phase)
        {
            case SyncPhase.Scanning:
                Write(new ProgressRecord(OverallId, _activity, string.Format(CultureInfo.CurrentCulture, "Scanning: {0:N0} items examined", progress.ItemsScanned))
                {
                    PercentComplete = -1,
                });
                break;

            case SyncPhase.Transferring:
                ReportTransfer(progress);
                break;

            default:
                Complete();
                break;
        }
    }

    /// <summary>Closes the records; safe to call more than once and while the pipeline is stopping.</summary>
    public void Complete()
    {
        try
        {
            if (_fileShown)
            {
                Write(new ProgressRecord(FileId, _activity, "Done") { ParentActivityId = OverallId, RecordType = ProgressRecordType.Completed });
                _fileShown = false;
            }

            if (_shown)
            {
                Write(new ProgressRecord(OverallId, _activity, "Done") { RecordType = ProgressRecordType.Completed });
                _shown = false;
            }
        }
        catch (PipelineStoppedException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

    private void ReportTransfer(SyncProgress p)
    {
        double fraction = p.BytesTotal > 0 ? (double)p.BytesDone / p.BytesTotal
            : p.ActionsTotal > 0 ? (double)p.ActionsDone / p.ActionsTotal : 0;
        fraction = Math.Clamp(fraction, 0, 1);
        int remaining = -1;
        double elapsed = _clock.Elapsed.TotalSeconds;
        if (fraction > 0.01 && elapsed > 1)
        {
            remaining = (int)Math.Ceiling((elapsed / fraction) - elapsed);
        }

        string status = string.Format(CultureInfo.CurrentCulture, "{0:N0} of {1:N0} items, {2} of {3}",
            p.ActionsDone, p.ActionsTotal, Size(p.BytesDone), Size(p.BytesTotal));
        Write(new ProgressRecord(OverallId, _activity, status)
        {
            PercentComplete = (int)(fraction * 100),
            SecondsRemaining = remaining,
            CurrentOperation = p.CurrentPath ?? string.Empty,
        });

        if (p.CurrentLength >= LargeFile && p.CurrentBytesDone < p.CurrentLength)
        {
            _fileShown = true;
            Write(new ProgressRecord(FileId, "Copying " + p.CurrentPath, string.Format(CultureInfo.CurrentCulture, "{0} of {1}", Size(p.CurrentBytesDone), Size(p.CurrentLength)))
            {
                ParentActivityId = OverallId,
                PercentComplete = (int)(100 * p.CurrentBytesDone / p.CurrentLength),
            });
        }
        else if (_fileShown)
        {
            _fileShown = false;
            Write(new ProgressRecord(FileId, _activity, "Done") { ParentActivityId = OverallId, RecordType = ProgressRecordType.Completed });
        }
    }

    private void Write(ProgressRecord record)
    {
        _shown = true;
        _cmdlet.WriteProgress(record);
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Format(CultureInfo.CurrentCulture, "{0:N2} GiB", bytes / (double)(1L << 30)),
        >= 1L << 20 => string.Format(CultureInfo.CurrentCulture, "{0:N1} MiB", bytes / (double)(1L << 20)),
        >= 1L << 10 => string.Format(CultureInfo.CurrentCulture, "{0:N1} KiB", bytes / 1024.0),
        _ => string.Format(CultureInfo.CurrentCulture, "{0} B", bytes),
    };
}
