using System.Management.Automation;
using PSReplica.Commands.Hosting;

namespace PSReplica.Commands;

/// <summary>Sync-Directory: makes the destination's contents a replica of the source's contents and writes one
/// SyncItem per completed action (or one SyncSummary with -Summary).</summary>
[Cmdlet(VerbsData.Sync, "Directory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
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

    protected override void ProcessRecord()
    {
        SyncOptions options = BuildOptions() with
        {
            TransferMode = TransferMode,
            BlockSize = MyInvocation.BoundParameters.ContainsKey(nameof(BlockSize)) ? BlockSize : null,
        };

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
