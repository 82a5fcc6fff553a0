using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using PSReplica.Commands.Hosting;
using PSReplica.Engine.Client;
using PSReplica.Engine.Native;

namespace PSReplica.Commands;

/// <summary>The selection parameters Sync-Directory and Get-SyncPlan share, path resolution, and the loop that
/// runs the engine on a worker thread while the pipeline thread writes its events.</summary>
public abstract partial class SyncCommandBase : PSCmdlet, IDisposable
{
    protected const string PathSet = "Path";
    protected const string LiteralPathSet = "LiteralPath";

    private readonly CancellationTokenSource _cancellation = new();
    private bool _disposed;

    /// <summary>The directories whose contents are replicated, and files that are copied in themselves; several are merged
    /// into the destination (rsync SRC1/ SRC2/ DEST/). Wildcards are resolved and may name several. Bound from the
    /// pipeline by property name only, so that nothing (a SyncItem above all) binds as a path by its text.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Source")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    /// <summary>The sources as -Path, taken literally (no wildcards).</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>The directory that becomes the replica; created with its parents when missing.</summary>
    /// <remarks>Not Mandatory to PowerShell, and in every parameter set: a mandatory parameter outside the default set
    /// makes PowerShell bind piped rows by property name in the default set first, so a row with LiteralPath and
    /// Destination would fail on the missing Path. A missing destination is refused in <see cref="BuildOptions"/>.</remarks>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
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
    [Alias("DST")]
    public SwitchParameter IgnoreDaylightSavingShift { get; set; }

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

    /// <summary>Only files whose Windows Archive attribute is set are transferred (robocopy /A); others are skipped and
    /// their copies kept. The portable backend on Windows, with a local source, only.</summary>
    [Parameter]
    public SwitchParameter ArchiveOnly { get; set; }

    /// <summary>As -ArchiveOnly, and each source file's Archive attribute is cleared once its copy is verified
    /// (robocopy /M).</summary>
    [Parameter]
    public SwitchParameter ResetArchive { get; set; }

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

    /// <summary>Only regular files modified within this age are transferred (rclone --max-age, robocopy /MAXAGE): a
    /// duration (90s, 15m, 12h, 7d, 2w, 1M = 30 days, 1y = 365 days), a TimeSpan, or a DateTime (files modified since).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [AgeArgument]
    public string? MaxAge { get; set; }

    /// <summary>Only regular files modified longer ago than this are transferred (rclone --min-age, robocopy /MINAGE).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [AgeArgument]
    public string? MinAge { get; set; }

    /// <summary>Do not cross file-system boundaries (rsync -x): a mount point below the source is created empty, and
    /// -Delete neither deletes in nor deletes a destination directory on another file system.</summary>
    [Parameter]
    public SwitchParameter OneFileSystem { get; set; }

    /// <summary>Do not create source directories that have nothing to transfer below them (rsync -m).</summary>
    [Parameter]
    public SwitchParameter PruneEmptyDirectories { get; set; }

    /// <summary>Write files with holes where their content is zeros, and read a sparse source by its data only (rsync -S).</summary>
    [Parameter]
    public SwitchParameter Sparse { get; set; }

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

    /// <summary>The sources as resolved by <see cref="BuildOptions"/>: absolute local paths, or the remote address as given.</summary>
    private protected string[] ResolvedSources { get; private set; } = [];

    /// <summary>The destination as resolved by <see cref="BuildOptions"/>.</summary>
    private protected string ResolvedDestination { get; private set; } = string.Empty;

    /// <summary>True while a reviewed plan's parameters are applied: its sources are literal paths.</summary>
    private protected bool ApplyingPlan => PlanParameters.Count > 0;

    /// <summary>The parameters a reviewed plan being applied has set, which count as given.</summary>
    private protected HashSet<string> PlanParameters { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>True when the parameter was given: on the command line, or by the reviewed plan being applied.</summary>
    private protected bool IsGiven(string name) => MyInvocation.BoundParameters.ContainsKey(name) || PlanParameters.Contains(name);

    private bool UsesLiteralPath => ParameterSetName == LiteralPathSet || ApplyingPlan;

    /// <summary>Stops this row: a terminating error for a command given its paths as arguments; for a row of pipeline input
    /// (Import-Csv mirrors.csv | Sync-Directory) a non-terminating error, and the next row runs. See <see cref="RunRow"/>.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private protected static void Stop(ErrorRecord error) => throw new RowFailedException(error);

    /// <summary>Runs one row (one ProcessRecord): a failure that stops it is terminating unless the row came from the
    /// pipeline, where it becomes a non-terminating error naming the row's paths (-ErrorAction Stop still stops).</summary>
    private protected void RunRow(Action row)
    {
        ResolvedSources = [];
        ResolvedDestination = string.Empty;
        try
        {
            row();
        }
        catch (RowFailedException failure)
        {
            ErrorRecord error = failure.Error;
            if (!MyInvocation.ExpectingInput)
            {
                ThrowTerminatingError(error);
            }

            string source = string.Join(", ", ResolvedSources.Length > 0 ? ResolvedSources : UsesLiteralPath ? LiteralPath : Path);
            string destination = ResolvedDestination.Length > 0 ? ResolvedDestination : Destination;
            var target = new PSObject();
            target.Properties.Add(new PSNoteProperty("Path", source));
            target.Properties.Add(new PSNoteProperty("Destination", destination));
            target.Properties.Add(new PSNoteProperty("Target", error.TargetObject));
            WriteError(new ErrorRecord(error.Exception, error.FullyQualifiedErrorId, error.CategoryInfo.Category, target)
            {
                ErrorDetails = new ErrorDetails($"{error.Exception.Message} (source '{source}', destination '{destination}')"),
            });
        }
    }

    /// <summary>A failure that stops the current row; carries its ErrorRecord to <see cref="RunRow"/>.</summary>
    private sealed class RowFailedException(ErrorRecord error) : Exception(error.Exception.Message, error.Exception)
    {
        public ErrorRecord Error { get; } = error;
    }

    /// <summary>Resolves the source and destination and builds the engine's options; terminates on bad input.</summary>
    protected SyncOptions BuildOptions()
    {
        if (string.IsNullOrEmpty(Destination))
        {
            Stop(ErrorRecordFactory.Create(ErrorIds.DestinationMissing, ErrorCategory.InvalidArgument,
                "A destination is required: give -Destination (or a Destination property on piped rows).", null));
        }

        ResolveRemotes();
        string[] sources = RemoteSource is null ? ResolveSource() : [RemoteSource.Path];
        string destination = RemoteDestination?.Path ?? SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination);
        ResolvedSources = RemoteSource is null ? sources : [(UsesLiteralPath ? LiteralPath : Path)[0]];
        ResolvedDestination = RemoteDestination is null ? destination : Destination;
        int modes = (Checksum ? 1 : 0) + (SizeOnly ? 1 : 0) + (IgnoreTimes ? 1 : 0);
        if (modes > 1)
        {
            Stop(ErrorRecordFactory.Create(ErrorIds.InvalidParameterCombination, ErrorCategory.InvalidArgument,
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
            Stop(ErrorRecordFactory.Create(ex));
            throw;
        }

        FileSystemBackendKind? backend = SyncOptions.FileSystemFromEnvironment(out string? backendError);
        if (backend is null)
        {
            Stop(ErrorRecordFactory.Create(ErrorIds.InvalidFileSystemBackend, ErrorCategory.InvalidArgument, backendError!, null));
        }

        var options = new SyncOptions
        {
            FileSystem = backend!.Value,
            Source = sources[0],
            AdditionalSources = sources[1..],
            Destination = destination,
            Delete = Delete || DeleteExcluded,
            DeleteExcluded = DeleteExcluded,
            MaxDelete = MaxDelete >= 0 ? MaxDelete : null,
            Filter = filter,
            CompareMode = Checksum ? CompareMode.Checksum : SizeOnly ? CompareMode.SizeOnly : IgnoreTimes ? CompareMode.IgnoreTimes : CompareMode.QuickCheck,
            ModifyWindow = IsGiven(nameof(ModifyWindow)) ? ModifyWindow : null,
            IgnoreDaylightSavingShift = IgnoreDaylightSavingShift,
            Update = Update,
            IgnoreExisting = IgnoreExisting,
            // -Preserve Acls implies Permissions, as rsync -A implies -p: an ACL's mask is the mode's group bits.
            Preserve = (Preserve & PreserveOptions.Acls) != 0 ? Preserve | PreserveOptions.Permissions : Preserve,
            CopyLinks = CopyLinks,
            ExistingOnly = ExistingOnly,
            ArchiveOnly = ArchiveOnly,
            ResetArchive = ResetArchive,
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
                Stop(ErrorRecordFactory.Create(ex));
                throw;
            }

            WriteWarnings(warnings);
        }

        // Ages are measured from the start of the run, one instant for both.
        DateTime started = DateTime.UtcNow;
        try
        {
            return options with
            {
                MinSize = MinSize is null ? null : SizeParser.Parse(MinSize),
                MaxSize = MaxSize is null ? null : SizeParser.Parse(MaxSize),
                MaxAgeCutoff = MaxAge is null ? null : AgeParser.Cutoff(MaxAge, started),
                MinAgeCutoff = MinAge is null ? null : AgeParser.Cutoff(MinAge, started),
                OneFileSystem = OneFileSystem,
                PruneEmptyDirectories = PruneEmptyDirectories,
                Sparse = Sparse,
            };
        }
        catch (SyncException ex)
        {
            Stop(ErrorRecordFactory.Create(ex));
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
            Stop(ErrorRecordFactory.Create(ex));
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

    /// <summary>-LogPath's file while a run writes to it, else null.</summary>
    private protected RunLog? Log { get; set; }

    /// <summary>The parameters that decide a plan, as a Get-SyncPlan command line of literal values with every path
    /// resolved (see <see cref="PlanCommandLine"/>): what a reviewed plan carries so that Sync-Directory can plan again
    /// with the same selection. -Credential is never written down; -Filter's rules go first in -FilterRule, where they
    /// keep their place in the documented rule order.</summary>
    private protected string DescribeSelection()
    {
        var parameters = new List<KeyValuePair<string, object?>>
        {
            new(nameof(LiteralPath), ResolvedSources),
            new(nameof(Destination), ResolvedDestination),
        };
        var filterRules = new List<string>();
        if (Filter is not null)
        {
            filterRules.AddRange(Filter.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        filterRules.AddRange(FilterRule ?? []);
        foreach (KeyValuePair<string, object> bound in MyInvocation.BoundParameters)
        {
            switch (bound.Key)
            {
                case nameof(Path) or nameof(LiteralPath) or nameof(Destination) or nameof(Filter) or nameof(FilterRule):
                    break;
                case var trusted when IsTrustParameter(trusted):
                    break;
                case nameof(FilesFrom):
                    parameters.Add(new(bound.Key, SessionState.Path.GetUnresolvedProviderPathFromPSPath((string)bound.Value)));
                    break;
                case nameof(LinkDest) or nameof(CompareDest) or nameof(CopyDest):
                    parameters.Add(new(bound.Key, ResolveBasis((string[])bound.Value)));
                    break;
                default:
                    if (IsSelectionParameter(bound.Key))
                    {
                        parameters.Add(new(bound.Key, bound.Value));
                    }

                    break;
            }
        }

        if (filterRules.Count > 0)
        {
            parameters.Add(new(nameof(FilterRule), filterRules.ToArray()));
        }

        return PlanCommandLine.Format(parameters);
    }

    /// <summary>What a run trusts or runs: credentials, keys, known hosts, trust on first use, and commands. Never written
    /// into a plan and never taken from one (a plan file is data: applying it must not run a command or accept a host key
    /// that its author chose); given again when the plan is applied.</summary>
    private protected static bool IsTrustParameter(string name) =>
        name.Equals(nameof(Credential), StringComparison.OrdinalIgnoreCase) || name.Equals(nameof(KeyFilePath), StringComparison.OrdinalIgnoreCase)
        || name.Equals(nameof(KnownHostsPath), StringComparison.OrdinalIgnoreCase) || name.Equals(nameof(AcceptNewHostKey), StringComparison.OrdinalIgnoreCase)
        || name.Equals(nameof(SshCommand), StringComparison.OrdinalIgnoreCase) || name.Equals(nameof(RemoteCommand), StringComparison.OrdinalIgnoreCase);

    /// <summary>True for a parameter Get-SyncPlan and Sync-Directory share (declared here), not a common parameter.</summary>
    private protected static bool IsSelectionParameter(string name) =>
        typeof(SyncCommandBase).GetProperty(name, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance
            | System.Reflection.BindingFlags.IgnoreCase) is { } property
        && property.DeclaringType == typeof(SyncCommandBase)
        && Attribute.IsDefined(property, typeof(ParameterAttribute));

    private void Handle(object next, ProgressReporter progress)
    {
        switch (next)
        {
            case SyncItem item:
                // Names that are not UTF-8 leave the engine in their shown form (\#ooo), as valid Unicode.
                WriteItem(SyncNames.Show(item));
                break;

            case SyncException error:
                Log?.Error(error.ErrorId, SyncNames.Show(error.Message));
                WriteError(ErrorRecordFactory.Create(error));
                break;

            case PipelineObserver.Warning warning:
                string shown = SyncNames.Show(warning.Message);
                Log?.Warning(shown);
                WriteWarning(shown);
                break;

            case PipelineObserver.VerboseMessage verbose:
                WriteVerbose(SyncNames.Show(verbose.Message));
                break;

            case PipelineObserver.DebugMessage debug:
                WriteDebug(SyncNames.Show(debug.Message));
                break;

            case SyncProgress report:
                progress.Report(report);
                break;

            case PipelineObserver.ConfirmRequest request:
                bool answer = false;
                try
                {
                    answer = ShouldProcess(SyncNames.Show(request.Item.DestinationPath), request.Item.Action + " " + request.Item.ItemType);
                }
                finally
                {
                    request.Answer.TrySetResult(answer);
                }

                break;
        }
    }

    /// <summary>Every source as a file system path, in the order given (wildcards may match several). Whether each is a
    /// directory or a file, and that a path named twice counts once, is the engine's business (Scanning/SourceSet.cs).</summary>
    private string[] ResolveSource()
    {
        var resolved = new List<string>();
        if (UsesLiteralPath)
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
                        Stop(ErrorRecordFactory.Create(ErrorIds.SourceNotFound, ErrorCategory.ObjectNotFound,
                            $"Nothing matches the source '{path}'.", path));
                    }

                    resolved.AddRange(matches);
                    if (provider.Name != "FileSystem")
                    {
                        Stop(ErrorRecordFactory.Create(ErrorIds.SourceNotDirectory, ErrorCategory.InvalidArgument,
                            $"The source '{path}' is not a file system path.", path));
                    }
                }
                catch (ItemNotFoundException ex)
                {
                    Stop(new ErrorRecord(ex, ErrorIds.SourceNotFound, ErrorCategory.ObjectNotFound, path));
                }
            }
        }

        return [.. resolved];
    }
}
