using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using PSReplica.Commands.Hosting;
using PSReplica.Engine.Client;

namespace PSReplica.Commands;

/// <summary>The selection parameters Sync-Directory and Get-SyncPlan share, path resolution, and the loop that
/// runs the engine on a worker thread while the pipeline thread writes its events.</summary>
public abstract partial class SyncCommandBase : PSCmdlet, IDisposable
{
    protected const string PathSet = "Path";
    protected const string LiteralPathSet = "LiteralPath";

    private readonly CancellationTokenSource _cancellation = new();
    private bool _disposed;

    /// <summary>The directory whose contents are replicated; wildcards are resolved and must name one directory.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Source")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    /// <summary>The source directory, taken literally (no wildcards).</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>The directory that becomes the replica; created with its parents when missing.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = string.Empty;

    [Parameter]
    public SwitchParameter Delete { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int MaxDelete { get; set; } = -1;

    [Parameter]
    public string[]? Exclude { get; set; }

    [Parameter]
    public string[]? Include { get; set; }

    [Parameter]
    public SyncFilter? Filter { get; set; }

    /// <summary>Rules in rsync's filter syntax, placed after -Include, -Exclude and -Filter's rules.</summary>
    [Parameter]
    public string[]? FilterRule { get; set; }

    /// <summary>rsync -F: reads the rules of each directory's .rsync-filter file (dir-merge /.rsync-filter).</summary>
    [Parameter]
    public SwitchParameter UseFilterFiles { get; set; }

    /// <summary>rsync --delete-excluded: excluded destination items are deleted too; implies -Delete.</summary>
    [Parameter]
    public SwitchParameter DeleteExcluded { get; set; }

    [Parameter]
    public SwitchParameter Checksum { get; set; }

    [Parameter]
    public SwitchParameter SizeOnly { get; set; }

    [Parameter]
    public SwitchParameter IgnoreTimes { get; set; }

    [Parameter]
    [ValidateRange(-1, int.MaxValue)]
    public int ModifyWindow { get; set; }

    [Parameter]
    public SwitchParameter Update { get; set; }

    [Parameter]
    public SwitchParameter IgnoreExisting { get; set; }

    [Parameter]
    public PreserveOptions Preserve { get; set; } = SyncOptions.DefaultPreserve;

    [Parameter]
    public SwitchParameter CopyLinks { get; set; }

    /// <summary>Regular files smaller than this are not transferred (rsync --min-size): bytes, or K, M, G (1024-based).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MinSize { get; set; }

    /// <summary>Regular files larger than this are not transferred (rsync --max-size).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MaxSize { get; set; }

    /// <summary>A file listing the relative paths to transfer, one per line or NUL-separated (rsync --files-from).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FilesFrom { get; set; }

    /// <summary>Create nothing new in the destination; update only what exists there (rsync --existing).</summary>
    [Parameter]
    public SwitchParameter ExistingOnly { get; set; }

    /// <summary>Directories holding an earlier copy (rsync --link-dest): new files unchanged there become hard links to
    /// them. A relative path is relative to the destination, as in rsync.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? LinkDest { get; set; }

    /// <summary>Directories whose identical files are not copied (rsync --compare-dest); relative to the destination.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? CompareDest { get; set; }

    /// <summary>Directories whose identical files are copied locally instead of from the source (rsync --copy-dest).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? CopyDest { get; set; }

    protected CancellationToken Cancellation => _cancellation.Token;

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _cancellation.Dispose();
        }

        _disposed = true;
    }

    protected override void StopProcessing() => _cancellation.Cancel();

    /// <summary>Resolves the source and destination and builds the engine's options; terminates on bad input.</summary>
    protected SyncOptions BuildOptions()
    {
        ResolveRemotes();
        string source = RemoteSource?.Path ?? ResolveSource();
        string destination = RemoteDestination?.Path ?? SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination);
        int modes = (Checksum ? 1 : 0) + (SizeOnly ? 1 : 0) + (IgnoreTimes ? 1 : 0);
        if (modes > 1)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(ErrorIds.InvalidParameterCombination, ErrorCategory.InvalidArgument,
                "Use only one of -Checksum, -SizeOnly and -IgnoreTimes.", null));
        }

        SyncFilter filter;
        try
        {
            // The rule order is fixed and documented: -Include, -Exclude, -Filter's rules, -FilterRule, -UseFilterFiles.
            var builder = new SyncFilterBuilder(SessionState.Path.CurrentFileSystemLocation.ProviderPath);
            foreach (string pattern in Include ?? [])
            {
                builder.AddInclude(pattern);
            }

            foreach (string pattern in Exclude ?? [])
            {
                builder.AddExclude(pattern);
            }

            if (Filter is not null)
            {
                builder.Add(Filter);
            }

            foreach (string rule in FilterRule ?? [])
            {
                builder.AddRule(rule);
            }

            if (UseFilterFiles)
            {
                builder.AddRule("dir-merge /.rsync-filter");
            }

            filter = builder.Build();
        }
        catch (SyncException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(ex));
            throw;
        }

        var options = new SyncOptions
        {
            Source = source,
            Destination = destination,
            Delete = Delete || DeleteExcluded,
            DeleteExcluded = DeleteExcluded,
            MaxDelete = MaxDelete >= 0 ? MaxDelete : null,
            Filter = filter,
            CompareMode = Checksum ? CompareMode.Checksum : SizeOnly ? CompareMode.SizeOnly : IgnoreTimes ? CompareMode.IgnoreTimes : CompareMode.QuickCheck,
            ModifyWindow = ModifyWindow,
            Update = Update,
            IgnoreExisting = IgnoreExisting,
            Preserve = Preserve,
            CopyLinks = CopyLinks,
            ExistingOnly = ExistingOnly,
            LinkDest = ResolveBasis(LinkDest),
            CompareDest = ResolveBasis(CompareDest),
            CopyDest = ResolveBasis(CopyDest),
            BandwidthLimit = IsRemote ? 0 : BandwidthLimit * 1024L,
        };

        if (FilesFrom is not null)
        {
            var warnings = new List<string>();
            try
            {
                options = OptionNormalizer.ApplyFilesFrom(options, SessionState.Path.GetUnresolvedProviderPathFromPSPath(FilesFrom), warnings);
            }
            catch (SyncException ex)
            {
                WriteWarnings(warnings);
                ThrowTerminatingError(ErrorRecordFactory.Create(ex));
                throw;
            }

            WriteWarnings(warnings);
        }

        try
        {
            return options with
            {
                MinSize = MinSize is null ? null : SizeParser.Parse(MinSize),
                MaxSize = MaxSize is null ? null : SizeParser.Parse(MaxSize),
            };
        }
        catch (SyncException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(ex));
            throw;
        }
    }

    private void WriteWarnings(List<string> warnings)
    {
        foreach (string warning in warnings)
        {
            WriteWarning(warning);
        }
    }

    /// <summary>An absolute or '~' path is resolved as PowerShell resolves paths; a relative one is left for the engine,
    /// which takes it relative to the destination as rsync does. A remote destination's are paths on its host, passed as given.</summary>
    private string[] ResolveBasis(string[]? directories)
    {
        var resolved = new List<string>();
        foreach (string directory in directories ?? [])
        {
            resolved.Add(RemoteDestination is null && (System.IO.Path.IsPathRooted(directory) || directory.StartsWith('~'))
                ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(directory)
                : directory);
        }

        return [.. resolved];
    }

    /// <summary>Runs <paramref name="work"/> on a worker thread and writes its events on this thread until it ends.</summary>
    private protected T RunEngine<T>(PipelineObserver observer, Func<CancellationToken, T> work, string activity)
    {
        var progress = new ProgressReporter(this, activity);
        observer.WantsVerbose = Shows("Verbose", "VerbosePreference");
        observer.WantsDebug = Shows("Debug", "DebugPreference");
        // A thread of its own: the engine blocks for the whole run (on its workers, on an agent's answers), and a blocked
        // thread-pool thread leaves the pool short for the continuations the transport needs until it injects another.
        Task<T> task = Task.Factory.StartNew(() => work(_cancellation.Token), _cancellation.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            observer.Drain(task, next => Handle(next, progress), _cancellation.Token);
            return task.GetAwaiter().GetResult();
        }
        catch (SyncException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(ex));
            throw;
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        finally
        {
            progress.Complete();
            if (!task.IsCompleted)
            {
                // Stopping: the worker sees the cancellation at its next check and removes its temp file; wait for that.
                _cancellation.Cancel();
                try
                {
                    task.Wait(TimeSpan.FromSeconds(30));
                }
                catch (AggregateException)
                {
                }
            }
        }
    }

    /// <summary>True under -WhatIf (the parameter or $WhatIfPreference): report, change nothing.</summary>
    protected bool IsWhatIf()
    {
        if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? whatIf))
        {
            return ((SwitchParameter)whatIf).IsPresent;
        }

        return LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));
    }

    /// <summary>True when each action must be confirmed on this thread (-Confirm or $ConfirmPreference).</summary>
    protected bool NeedsConfirmation()
    {
        if (MyInvocation.BoundParameters.TryGetValue("Confirm", out object? confirm))
        {
            return ((SwitchParameter)confirm).IsPresent;
        }

        return GetVariableValue("ConfirmPreference") is ConfirmImpact preference
            && preference != ConfirmImpact.None && preference <= ConfirmImpact.Medium;
    }

    /// <summary>True when this call shows a stream: its switch (-Verbose, -Debug) when bound, else the preference variable
    /// it inherits. The engine builds its verbose and debug messages only then.</summary>
    private bool Shows(string parameter, string preferenceVariable)
    {
        if (MyInvocation.BoundParameters.TryGetValue(parameter, out object? bound))
        {
            return ((SwitchParameter)bound).IsPresent;
        }

        // A preference set in a script scope without its type constraint is a string ('Continue').
        return LanguagePrimitives.TryConvertTo(GetVariableValue(preferenceVariable), out ActionPreference preference)
            && preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
    }

    protected virtual void WriteItem(SyncItem item) => WriteObject(item);

    private void Handle(object next, ProgressReporter progress)
    {
        switch (next)
        {
            case SyncItem item:
                WriteItem(item);
                break;

            case SyncException error:
                WriteError(ErrorRecordFactory.Create(error));
                break;

            case PipelineObserver.Warning warning:
                WriteWarning(warning.Message);
                break;

            case PipelineObserver.VerboseMessage verbose:
                WriteVerbose(verbose.Message);
                break;

            case PipelineObserver.DebugMessage debug:
                WriteDebug(debug.Message);
                break;

            case SyncProgress report:
                progress.Report(report);
                break;

            case PipelineObserver.ConfirmRequest request:
                bool answer = false;
                try
                {
                    answer = ShouldProcess(request.Item.DestinationPath, request.Item.Action + " " + request.Item.ItemType);
                }
                finally
                {
                    request.Answer.TrySetResult(answer);
                }

                break;
        }
    }

    private string ResolveSource()
    {
        var resolved = new List<string>();
        if (ParameterSetName == LiteralPathSet)
        {
            foreach (string path in LiteralPath)
            {
                resolved.Add(SessionState.Path.GetUnresolvedProviderPathFromPSPath(path));
            }
        }
        else
        {
            foreach (string path in Path)
            {
                // Resolved like -Path everywhere in PowerShell: wildcards expand and backtick escapes are honoured.
                try
                {
                    Collection<string> matches = GetResolvedProviderPathFromPSPath(path, out ProviderInfo provider);
                    if (matches.Count == 0)
                    {
                        ThrowTerminatingError(ErrorRecordFactory.Create(ErrorIds.SourceNotFound, ErrorCategory.ObjectNotFound,
                            $"No directory matches the source '{path}'.", path));
                    }

                    resolved.AddRange(matches);
                    if (provider.Name != "FileSystem")
                    {
                        ThrowTerminatingError(ErrorRecordFactory.Create(ErrorIds.SourceNotDirectory, ErrorCategory.InvalidArgument,
                            $"The source '{path}' is not a file system path.", path));
                    }
                }
                catch (ItemNotFoundException ex)
                {
                    ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.SourceNotFound, ErrorCategory.ObjectNotFound, path));
                }
            }
        }

        if (resolved.Count != 1)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(ErrorIds.SourceAmbiguous, ErrorCategory.InvalidArgument,
                $"The source must be exactly one directory; it resolved to {resolved.Count} paths: {string.Join(", ", resolved)}.", resolved));
        }

        return resolved[0];
    }
}
