using System;
using System.Management.Automation;
using PSReplica.Commands.Hosting;

namespace PSReplica.Commands;

/// <summary>Get-SyncPlan: what Sync-Directory would do, as SyncItems in execution order; changes nothing.
/// A converged replica yields nothing. Each item carries its plan (SyncItem.Plan), so the plan can be reviewed, saved
/// and applied exactly: <c>Get-SyncPlan ... | Sync-Directory</c>.</summary>
[Cmdlet(VerbsCommon.Get, "SyncPlan", DefaultParameterSetName = PathSet, HelpUri = "https://github.com/PSReplica/PSReplica/blob/main/docs/Get-SyncPlan.md")]
[OutputType(typeof(SyncItem))]
public sealed class GetSyncPlanCommand : SyncCommandBase
{
    private SyncPlanInfo? _plan;

    protected override void ProcessRecord() => RunRow(() =>
    {
        SyncOptions options = BuildOptions();
        _plan = new SyncPlanInfo { Id = Guid.NewGuid(), CreatedUtc = DateTime.UtcNow, Command = DescribeSelection() };
        // A dry run of the plan: the items Sync-Directory would emit, with -MaxDelete and the rule that nothing is
        // deleted after a scan error already applied; in plan order, so two calls give the same sequence.
        using var observer = new PipelineObserver(ask: false, emitItems: true);
        RunEngine(observer, cancellation => IsRemote
            ? RunRemote(options, observer, dryRun: true, cancellation)
            : LocalReplicator.Run(options, observer, cancellation, dryRun: true), "Get-SyncPlan");
    });

    protected override void WriteItem(SyncItem item)
    {
        item.Plan = _plan;
        WriteObject(item);
    }
}
