using System.Collections.Concurrent;
using PSReplica.Engine.Tests;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>The local run of each option on its own <see cref="ScenarioTree"/>, made once for a test class and shared by
/// that option's cases (it is only read after the run): the reference the other wirings are held to.</summary>
public sealed class LocalReferences : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<Reference>>> _runs = new(StringComparer.Ordinal);

    /// <summary>Every time a run sets to the present is at or after this (Unix seconds): what snapshots read as "now".</summary>
    public long NowFrom { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1;

    internal Task<Reference> GetAsync(OptionScenario scenario) =>
        _runs.GetOrAdd(scenario.Name, name => new Lazy<Task<Reference>>(() => RunAsync(scenario))).Value;

    public void Dispose() => _directory.Dispose();

    private async Task<Reference> RunAsync(OptionScenario scenario)
    {
        using IDisposable? attributes = OptionScenarios.UseAttributes(scenario);
        ScenarioTree tree = ScenarioTree.Create(_directory.Combine(scenario.Name));
        scenario.Prepare?.Invoke(tree);
        Dictionary<string, ulong> before = TreeSnapshot.Inodes(tree.Root, ScenarioTree.Compared);
        var observer = new RecordingObserver();
        await WiringRunner.RunAsync(Wiring.Local, scenario.Options(tree), observer, sftp: null, scenario.DryRun);
        return new Reference(tree, observer, before);
    }

    /// <summary>A finished local run: its tree, what it reported, and the inodes its files had before it.</summary>
    internal sealed record Reference(ScenarioTree Tree, RecordingObserver Observer, Dictionary<string, ulong> InodesBefore);
}
