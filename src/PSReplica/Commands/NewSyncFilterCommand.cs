using System.Management.Automation;
using PSReplica.Commands.Hosting;

namespace PSReplica.Commands;

/// <summary>New-SyncFilter: builds a SyncFilter from rules in rsync's language and from rule files, appended to the
/// rules of a filter given as input. Within one call the rules come in a fixed order, documented in the help:
/// input filter, -Include, -Exclude, -IncludeFrom, -ExcludeFrom, -Rule, -Path, -GitIgnore, -CvsExclude.</summary>
[Cmdlet(VerbsCommon.New, "SyncFilter", HelpUri = "https://github.com/PSReplica/PSReplica/blob/main/docs/New-SyncFilter.md")]
[OutputType(typeof(SyncFilter))]
public sealed class NewSyncFilterCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    public string[]? Exclude { get; set; }

    [Parameter]
    public string[]? Include { get; set; }

    /// <summary>Rules in rsync's filter syntax ("- *.o", "P keep/", ": .rsync-filter", ...).</summary>
    [Parameter]
    public string[]? Rule { get; set; }

    /// <summary>Files of rules in rsync's filter syntax (merge files).</summary>
    [Parameter]
    public string[]? Path { get; set; }

    /// <summary>.gitignore files, translated to rsync rules.</summary>
    [Parameter]
    public string[]? GitIgnore { get; set; }

    /// <summary>Files of exclude patterns, one a line (rsync --exclude-from).</summary>
    [Parameter]
    public string[]? ExcludeFrom { get; set; }

    /// <summary>Files of include patterns, one a line (rsync --include-from).</summary>
    [Parameter]
    public string[]? IncludeFrom { get; set; }

    /// <summary>rsync's -C: the CVS ignore list, $CVSIGNORE, and each directory's .cvsignore.</summary>
    [Parameter]
    public SwitchParameter CvsExclude { get; set; }

    /// <summary>A filter whose rules come first.</summary>
    [Parameter(ValueFromPipeline = true)]
    public SyncFilter? InputObject { get; set; }

    protected override void ProcessRecord()
    {
        SyncFilter filter;
        try
        {
            var builder = new SyncFilterBuilder(SessionState.Path.CurrentFileSystemLocation.ProviderPath);
            if (InputObject is not null)
            {
                builder.Add(InputObject);
            }

            foreach (string pattern in Include ?? [])
            {
                builder.AddInclude(pattern);
            }

            foreach (string pattern in Exclude ?? [])
            {
                builder.AddExclude(pattern);
            }

            foreach (string file in IncludeFrom ?? [])
            {
                builder.AddPatternFile(Resolve(file), FilterRuleType.Include);
            }

            foreach (string file in ExcludeFrom ?? [])
            {
                builder.AddPatternFile(Resolve(file), FilterRuleType.Exclude);
            }

            foreach (string rule in Rule ?? [])
            {
                builder.AddRule(rule);
            }

            foreach (string file in Path ?? [])
            {
                builder.AddMergeFile(Resolve(file));
            }

            foreach (string file in GitIgnore ?? [])
            {
                builder.AddGitIgnore(Resolve(file));
            }

            if (CvsExclude)
            {
                builder.AddCvsExclude();
            }

            filter = builder.Build();
        }
        catch (SyncException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(ex));
            return;
        }

        WriteObject(filter);
    }

    private string Resolve(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
}
