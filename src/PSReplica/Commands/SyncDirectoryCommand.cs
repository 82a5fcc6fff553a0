using System.Management.Automation;
using PSReplica.Commands.Hosting;
using PSReplica.Engine.Client;

namespace PSReplica.Commands;

/// <summary>Sync-Directory: makes the destination's contents a replica of the source's contents and writes one
/// SyncItem per completed action (or one SyncSummary with -Summary).</summary>
[Cmdlet(VerbsData.Sync, "Directory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = "https://github.com/PSReplica/PSReplica/blob/main/docs/Sync-Directory.md")]
[OutputType(typeof(SyncItem), typeof(SyncSummary))]
public sealed class SyncDirectoryCommand : SyncCommandBase
{
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

    protected override void ProcessRecord()
    {
        SyncOptions options = BuildOptions() with
        {
            TransferMode = TransferMode,
            BlockSize = MyInvocation.BoundParameters.ContainsKey(nameof(BlockSize)) ? BlockSize : null,
            RemoveSourceFiles = RemoveSourceFiles,
            Partial = Partial,
            PartialDirectory = PartialDirectory is null ? null
                : System.IO.Path.IsPathRooted(PartialDirectory) || PartialDirectory.StartsWith('~')
                    ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(PartialDirectory) : PartialDirectory,
            DelayUpdates = DelayUpdates,
            Inplace = Inplace,
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
            ThrowTerminatingError(ErrorRecordFactory.Create(ex));
            throw;
        }

        // -WhatIf walks the whole plan as a dry run, so a new directory's contents are reported too.
        bool whatIf = IsWhatIf();
        using var observer = new PipelineObserver(ask: whatIf || NeedsConfirmation(), emitItems: !Summary && !whatIf);
        SyncSummary summary = RunEngine(observer, cancellation => IsRemote
            ? RunRemote(options, observer, whatIf, cancellation)
            : LocalReplicator.Run(options, observer, cancellation, dryRun: whatIf), "Sync-Directory");
        if (Summary)
        {
            WriteObject(summary);
        }
    }
}
