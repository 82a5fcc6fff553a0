using System.Management.Automation;
using PSReplica.Commands.Hosting;

namespace PSReplica.Commands;

/// <summary>Get-SyncPlan: what Sync-Directory would do, as SyncItems in execution order; changes nothing.
/// A converged replica yields nothing.</summary>
[Cmdlet(VerbsCommon.Get, "SyncPlan", DefaultParameterSetName = PathSet)]
[OutputType(typeof(SyncItem))]
public sealed class GetSyncPlanCommand : SyncCommandBase
{
    protected override void ProcessRecord()
    {
        SyncOptions options = BuildOptions();
        using var observer = new PipelineObserver(ask: false, emitItems: false);
        SyncPlan plan = RunEngine(observer, cancellation => LocalReplicator.Plan(options, observer, cancellation), "Get-SyncPlan");
        foreach (SyncItem item in plan.Items)
        {
            WriteObject(item);
        }
    }
}
