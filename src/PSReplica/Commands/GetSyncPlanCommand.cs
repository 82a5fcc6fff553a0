using System.Management.Automation;
using PSReplica.Commands.Hosting;

namespace PSReplica.Commands;

/// <summary>Get-SyncPlan: what Sync-Directory would do, as SyncItems in execution order; changes nothing.
/// A converged replica yields nothing.</summary>
[Cmdlet(VerbsCommon.Get, "SyncPlan", HelpUri = "https://github.com/PSReplica/PSReplica/blob/main/docs/Get-SyncPlan.md")]
[OutputType(typeof(SyncItem))]
public sealed class GetSyncPlanCommand : SyncCommandBase
{
    protected override void ProcessRecord()
    {
        SyncOptions options = BuildOptions();
        // A dry run of the plan: the items Sync-Directory would emit, with -MaxDelete and the rule that nothing is
        // deleted after a scan error already applied; in plan order, so two calls give the same sequence.
        using var observer = new PipelineObserver(ask: false, emitItems: true);
        RunEngine(observer, cancellation => IsRemote
            ? RunRemote(options, observer, dryRun: true, cancellation)
            : LocalReplicator.Run(options, observer, cancellation, dryRun: true), "Get-SyncPlan");
    }
}
