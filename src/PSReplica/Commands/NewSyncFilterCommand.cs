using System.Management.Automation;
using PSReplica.Commands.Hosting;

namespace PSReplica.Commands;

/// <summary>New-SyncFilter: builds a SyncFilter from rsync-style include and exclude patterns, optionally
/// appended to the rules of a filter given as input.</summary>
[Cmdlet(VerbsCommon.New, "SyncFilter")]
[OutputType(typeof(SyncFilter))]
public sealed class NewSyncFilterCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    public string[]? Exclude { get; set; }

    [Parameter]
    public string[]? Include { get; set; }

    /// <summary>A filter whose rules come first.</summary>
    [Parameter(ValueFromPipeline = true)]
    public SyncFilter? InputObject { get; set; }

    protected override void ProcessRecord()
    {
        SyncFilter filter;
        try
        {
            filter = SyncFilter.FromPatterns(Include, Exclude);
        }
        catch (SyncException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(ex));
            return;
        }

        WriteObject(InputObject is null ? filter : InputObject.Append(filter));
    }
}
