namespace PSReplica;

/// <summary>Where a reviewed plan came from: the Get-SyncPlan command that made it, with its paths resolved, so that
/// Sync-Directory can plan again with the same selection at apply time and carry out only the reviewed items. Plain
/// text and numbers, so a plan survives Export-Clixml, ConvertTo-Json and a change-approval step unchanged.</summary>
public sealed class SyncPlanInfo
{
    /// <summary>Tells the items of one Get-SyncPlan call from another's.</summary>
    public Guid Id { get; set; }

    /// <summary>When the plan was made.</summary>
    public DateTime CreatedUtc { get; set; }

    /// <summary>The Get-SyncPlan command line that made the plan, with its paths resolved: its parameters are the
    /// apply step's selection. Only literal values; Sync-Directory parses it and never runs it.</summary>
    public string Command { get; set; } = string.Empty;

    public override string ToString() => Command;
}
