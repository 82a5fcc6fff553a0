using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using PSReplica.Commands.Hosting;
using PSReplica.Engine.Client;
using PSReplica.Engine.Watching;

namespace PSReplica.Commands;

/// <summary>Sync-Directory: makes the destination's contents a replica of the source's contents and writes one
/// SyncItem per completed action (or one SyncSummary with -Summary). Given a reviewed plan (Get-SyncPlan's items, piped or
/// as -Plan) it carries out exactly those items that are still as planned.</summary>
[Cmdlet(VerbsData.Sync, "Directory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = PathSet,
    HelpUri = "https://github.com/PSReplica/PSReplica/blob/main/docs/Sync-Directory.md")]
[OutputType(typeof(SyncItem), typeof(SyncSummary))]
public sealed class SyncDirectoryCommand : SyncCommandBase
{
    private const string PlanSet = "Plan";

    private readonly List<SyncItem> _reviewed = [];
    private readonly List<SyncSummary> _summaries = [];

    /// <summary>A reviewed plan: Get-SyncPlan's items (also after Export-Clixml/Import-Clixml or ConvertTo-Json/ConvertFrom-Json).
    /// The run plans again with the plan's own parameters and carries out only its items that have not changed since;
    /// a changed one is skipped with a PlanStale warning.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PlanSet, ValueFromPipeline = true)]
    public SyncItem[] Plan { get; set; } = [];

    /// <summary>Also store the run's SyncSummary in this variable (an array of them when rows come from the pipeline),
    /// while the items still go down the pipeline.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SummaryVariable { get; set; }

    /// <summary>Append one line per item (rsync's --log-file format), the errors, warnings and totals to this file,
    /// flushed as the run goes.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LogPath { get; set; }

    /// <summary>Write one SyncSummary at the end instead of an object per item.</summary>
    [Parameter]
    public SwitchParameter Summary { get; set; }

    /// <summary>Auto (whole files locally, as rsync does), Delta (only what differs from the destination's file) or WholeFile.</summary>
    [Parameter]
    public TransferMode TransferMode { get; set; } = TransferMode.Auto;

    /// <summary>The delta block length in bytes instead of rsync's square-root heuristic (rsync -B).</summary>
    [Parameter]
    [ValidateRange(64, 131072)]
    public int BlockSize { get; set; }

    /// <summary>Move each file about to be replaced or deleted aside first (rsync --backup).</summary>
    [Parameter]
    public SwitchParameter Backup { get; set; }

    /// <summary>Where -Backup moves files, keeping their relative paths (rsync --backup-dir); relative to the destination.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BackupDirectory { get; set; }

    /// <summary>Appended to backed-up names (rsync --suffix); "~" without -BackupDirectory, nothing with it.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? BackupSuffix { get; set; }

    /// <summary>Remove each transferred or up-to-date source file once its destination copy is verified (rsync --remove-source-files).</summary>
    [Parameter]
    public SwitchParameter RemoveSourceFiles { get; set; }

    /// <summary>Keep a file whose transfer was interrupted (as .NAME.psreplica-partial beside it) and resume from it next
    /// time (rsync --partial).</summary>
    [Parameter]
    public SwitchParameter Partial { get; set; }

    /// <summary>Keep partial files in this directory (rsync --partial-dir); implies -Partial. A name is a directory inside
    /// each destination directory; an absolute path is one directory for all.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PartialDirectory { get; set; }

    /// <summary>Put all updated files in place in one burst at the end of the run (rsync --delay-updates).</summary>
    [Parameter]
    public SwitchParameter DelayUpdates { get; set; }

    /// <summary>Write updates into the destination files themselves, with no temp file (rsync --inplace).</summary>
    [Parameter]
    public SwitchParameter Inplace { get; set; }

    /// <summary>Run again, up to this many times, while items fail for reasons that can pass or the connection is lost
    /// (robocopy /R, rclone --retries); each attempt plans afresh and does only what is left.</summary>
    [Parameter]
    [ValidateRange(0, 1000)]
    public int RetryCount { get; set; }

    /// <summary>Seconds to wait before each retry (robocopy /W).</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public int RetryDelay { get; set; } = 5;

    /// <summary>How many files are copied at once (the copy workers, as robocopy's /MT and rclone's --transfers); by default
    /// the processor count between 2 and 8 on a local run and 16 over a wire.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; }

    /// <summary>After the first sync, keep running and replicate each change as it happens (inotify on Linux,
    /// FileSystemWatcher on the portable backend), writing an item per change until stopped (Ctrl+C, Stop-Job).</summary>
    [Parameter]
    public SwitchParameter Watch { get; set; }

    /// <summary>With -Watch: how long the changes must rest before they are replicated (a duration such as 250ms or 1s, or
    /// a TimeSpan); 50ms by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [AgeArgument]
    public string? SettleTime { get; set; }

    /// <summary>With -Watch: plan the whole tree again this often, whatever the notifications said (changes that
    /// notifications cannot see, as on a network file system); a duration such as 15m or 1h, or a TimeSpan. Off by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [AgeArgument]
    public string? RescanInterval { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == PlanSet)
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Destination)))
            {
                ThrowTerminatingError(ErrorRecordFactory.Create(ErrorIds.InvalidParameterCombination, ErrorCategory.InvalidArgument,
                    "-Destination comes from the plan; it cannot be given with -Plan.", Destination));
            }

            // Applied as a whole at the end: the plan's items arrive one by one.
            _reviewed.AddRange(Plan);
            return;
        }

        RunRow(() => Run(review: null));
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName != PlanSet)
        {
            return;
        }

        // Items of several plans (each Get-SyncPlan call is one) are applied plan by plan, in the order they came.
        var plans = new List<(SyncPlanInfo Info, List<SyncItem> Items)>();
        foreach (SyncItem item in _reviewed)
        {
            if (item.Plan is null)
            {
                RunRow(() => Stop(ErrorRecordFactory.Create(ErrorIds.PlanInvalid, ErrorCategory.InvalidArgument,
                    $"The item '{item.RelativePath}' carries no plan (its Plan property is empty): only Get-SyncPlan's items can be applied.", item)));
                return;
            }

            int index = plans.FindIndex(plan => plan.Info.Id == item.Plan.Id);
            if (index < 0)
            {
                plans.Add((item.Plan, [item]));
            }
            else
            {
                plans[index].Items.Add(item);
            }
        }

        foreach ((SyncPlanInfo info, List<SyncItem> items) in plans)
        {
            RunRow(() => Apply(info, items));
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Log?.Dispose();
            Log = null;
        }

        base.Dispose(disposing);
    }

    protected override void WriteItem(SyncItem item)
    {
        Log?.Item(item);
        if (!Summary)
        {
            WriteObject(item);
        }
    }

    /// <summary>-Watch's settings, or null without -Watch; what -Watch cannot be combined with here (and -SettleTime or
    /// -RescanInterval without it) stops the command before anything is touched.</summary>
    private WatchSettings? WatchSettingsOf(bool whatIf)
    {
        if (!Watch)
        {
            foreach (string parameter in new[] { nameof(SettleTime), nameof(RescanInterval) })
            {
                if (IsGiven(parameter))
                {
                    Stop(ErrorRecordFactory.Create(ErrorIds.InvalidParameterCombination, ErrorCategory.InvalidArgument,
                        $"-{parameter} is a setting of -Watch; it cannot be used without it.", parameter));
                }
            }

            return null;
        }

        string? refused = ParameterSetName == PlanSet ? "-Plan (a reviewed plan is applied once)"
            : whatIf ? "-WhatIf (a watch changes the destination as the source changes)"
            : NeedsConfirmation() ? "-Confirm (a watch runs unattended; nothing may wait for an answer)"
            : Summary ? "-Summary (a watch writes an item per change until it is stopped; use -LogPath for a record)"
            : SummaryVariable is not null ? "-SummaryVariable (a watch ends only when it is stopped)"
            : RemoteSource is not null ? "a remote source (a pull): a watch watches a local source; run it where the files are, pushing here"
            : null;
        if (refused is not null)
        {
            Stop(ErrorRecordFactory.Create(ErrorIds.InvalidParameterCombination, ErrorCategory.InvalidArgument,
                "-Watch cannot be used with " + refused + ".", "Watch"));
        }

        try
        {
            TimeSpan? rescan = RescanInterval is null ? null : AgeParser.Duration(RescanInterval, nameof(RescanInterval));
            if (rescan < TimeSpan.FromSeconds(1))
            {
                // A shorter interval would rescan the whole tree without pause.
                throw new SyncException(ErrorIds.InvalidDuration, SyncErrorKind.InvalidArgument,
                    $"-RescanInterval: '{RescanInterval}' is shorter than a second; a whole-tree rescan that often would never rest.", RescanInterval!);
            }

            return new WatchSettings(
                SettleTime is null ? WatchSettings.DefaultSettleTime : AgeParser.Duration(SettleTime, nameof(SettleTime)), rescan);
        }
        catch (SyncException ex)
        {
            Stop(ErrorRecordFactory.Create(ex));
            throw;
        }
    }

    /// <summary>Takes the plan's parameters as this command's own (none may be given again), runs with the plan as the
    /// review, and puts the parameters back for the next plan.</summary>
    private void Apply(SyncPlanInfo info, List<SyncItem> items)
    {
        Dictionary<string, object?> parameters;
        try
        {
            parameters = PlanCommandLine.Parse(info.Command);
        }
        catch (SyncException ex)
        {
            Stop(ErrorRecordFactory.Create(ex));
            throw;
        }

        var saved = new List<(PropertyInfo Property, object? Value)>();
        try
        {
            foreach ((string name, object? value) in parameters)
            {
                if (!IsSelectionParameter(name) || IsTrustParameter(name))
                {
                    Stop(ErrorRecordFactory.Create(ErrorIds.PlanInvalid, ErrorCategory.InvalidArgument,
                        IsTrustParameter(name)
                            ? $"The plan cannot be applied: its command line sets '-{name}', which a plan never carries (credentials, keys, known hosts and commands are given when the plan is applied)."
                            : $"The plan cannot be applied: its command line sets '-{name}', which is not a Get-SyncPlan parameter.", info.Command));
                }

                PropertyInfo property = typeof(SyncCommandBase).GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)!;
                if (MyInvocation.BoundParameters.ContainsKey(property.Name))
                {
                    Stop(ErrorRecordFactory.Create(ErrorIds.InvalidParameterCombination, ErrorCategory.InvalidArgument,
                        $"-{property.Name} comes from the plan ({info.Command}); it cannot be given again when the plan is applied.", property.Name));
                }

                object converted;
                try
                {
                    converted = LanguagePrimitives.ConvertTo(value, property.PropertyType, CultureInfo.InvariantCulture);
                }
                catch (PSInvalidCastException ex)
                {
                    Stop(new ErrorRecord(ex, ErrorIds.PlanInvalid, ErrorCategory.InvalidArgument, info.Command));
                    throw;
                }

                if (Invalid(property, converted) is { } problem)
                {
                    Stop(ErrorRecordFactory.Create(ErrorIds.PlanInvalid, ErrorCategory.InvalidArgument,
                        $"The plan cannot be applied: its -{property.Name} {problem}.", info.Command));
                }

                saved.Add((property, property.GetValue(this)));
                property.SetValue(this, converted);
                PlanParameters.Add(property.Name);
            }

            Run(new ReviewedPlan(items));
        }
        finally
        {
            PlanParameters.Clear();
            foreach ((PropertyInfo property, object? value) in saved)
            {
                property.SetValue(this, value);
            }
        }
    }

    /// <summary>The checks PowerShell makes when it binds a parameter (its range, set and emptiness attributes), made
    /// here for a value a plan sets, since setting the property binds nothing; null when the value passes.</summary>
    private static string? Invalid(PropertyInfo property, object value)
    {
        foreach (Attribute attribute in property.GetCustomAttributes(inherit: true))
        {
            switch (attribute)
            {
                case ValidateRangeAttribute range when value is IComparable comparable
                    && (comparable.CompareTo(LanguagePrimitives.ConvertTo(range.MinRange, value.GetType(), CultureInfo.InvariantCulture)) < 0
                        || comparable.CompareTo(LanguagePrimitives.ConvertTo(range.MaxRange, value.GetType(), CultureInfo.InvariantCulture)) > 0):
                    return $"'{value}' is outside {range.MinRange} to {range.MaxRange}";
                case ValidateNotNullOrEmptyAttribute when value is string { Length: 0 } or Array { Length: 0 }:
                    return "is empty";
                case ValidateSetAttribute set when !set.ValidValues.Contains(value.ToString() ?? string.Empty, StringComparer.OrdinalIgnoreCase):
                    return $"'{value}' is not one of {string.Join(", ", set.ValidValues)}";
            }
        }

        return null;
    }

    private void Run(ReviewedPlan? review)
    {
        SyncOptions options = BuildOptions() with
        {
            TransferMode = TransferMode,
            BlockSize = IsGiven(nameof(BlockSize)) ? BlockSize : null,
            RemoveSourceFiles = RemoveSourceFiles,
            Partial = Partial,
            PartialDirectory = PartialDirectory is null ? null
                : System.IO.Path.IsPathRooted(PartialDirectory) || PartialDirectory.StartsWith('~')
                    ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(PartialDirectory) : PartialDirectory,
            DelayUpdates = DelayUpdates,
            Inplace = Inplace,
            Review = review,
            ThrottleLimit = IsGiven(nameof(ThrottleLimit)) ? ThrottleLimit : null,
        };
        try
        {
            // A remote destination's backup directory is a path on its host, passed as given.
            options = OptionNormalizer.ApplyBackups(options, Backup, BackupDirectory is null ? null
                : RemoteDestination is null && (System.IO.Path.IsPathRooted(BackupDirectory) || BackupDirectory.StartsWith('~'))
                    ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(BackupDirectory) : BackupDirectory,
                BackupSuffix);
        }
        catch (SyncException ex)
        {
            Stop(ErrorRecordFactory.Create(ex));
            throw;
        }

        // -WhatIf walks the whole plan as a dry run, so a new directory's contents are reported too.
        bool whatIf = IsWhatIf();
        WatchSettings? watch = WatchSettingsOf(whatIf);
        if (LogPath is not null && Log is null && !whatIf)
        {
            try
            {
                Log = new RunLog(SessionState.Path.GetUnresolvedProviderPathFromPSPath(LogPath));
            }
            catch (Exception ex) when (ex is System.IO.IOException or UnauthorizedAccessException or NotSupportedException)
            {
                Stop(new ErrorRecord(ex, ErrorIds.LogFileUnwritable, ErrorCategory.OpenError, LogPath));
            }
        }

        Log?.Start("Sync-Directory", string.Join(", ", ResolvedSources), ResolvedDestination);
        using var observer = new PipelineObserver(ask: whatIf || NeedsConfirmation(), emitItems: !whatIf && (!Summary || Log is not null));
        if (watch is not null)
        {
            // Ends only when stopped (a PipelineStoppedException) or when the watch cannot go on (its error).
            RunEngine(observer, cancellation =>
            {
                if (IsRemote)
                {
                    WatchRemote(options, watch, observer, RetryCount, TimeSpan.FromSeconds(RetryDelay), cancellation);
                }
                else
                {
                    LocalReplicator.Watch(options, watch, observer, RetryCount, TimeSpan.FromSeconds(RetryDelay), cancellation);
                }

                return 0;
            }, "Sync-Directory -Watch");
            return;
        }

        // A dry run changes nothing, so nothing in it can pass on a second attempt.
        SyncSummary summary = RunEngine(observer, cancellation => RetryingRun.Run(
            attempt => IsRemote ? RunRemote(options, attempt, whatIf, cancellation) : LocalReplicator.Run(options, attempt, cancellation, dryRun: whatIf),
            observer, whatIf ? 0 : RetryCount, TimeSpan.FromSeconds(RetryDelay), cancellation), "Sync-Directory");
        Log?.Totals(summary);
        _summaries.Add(summary);
        if (SummaryVariable is not null)
        {
            SessionState.PSVariable.Set(SummaryVariable, _summaries.Count == 1 ? summary : _summaries.ToArray());
        }

        if (Summary)
        {
            WriteObject(summary);
        }
    }
}
