using PSReplica.Engine.Tests;
using Xunit.Abstractions;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>
/// The scenario matrix (issue 13): every Sync-Directory option over every wiring. Each case builds the
/// <see cref="ScenarioTree"/> twice, runs the option locally on one copy (the reference) and over the wiring on the
/// other, and expects the same result: the source and destination trees (and the basis directory beside them) alike
/// in paths, types, contents, permission bits, times to the wiring's granularity, link targets, inode sharing and
/// which files were replaced rather than written in place; and the same items (path, action, type) and per-item
/// errors. A wiring may instead refuse the option up front (InvalidParameterCombination), having touched nothing.
/// The Local cases check the reference itself: that the option did what it is for on this tree.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WiringMatrixTests(SftpFixture sftp, LocalReferences references, ITestOutputHelper output)
    : IClassFixture<SftpFixture>, IClassFixture<LocalReferences>
{
    private readonly SftpFixture _sftp = sftp;
    private readonly LocalReferences _references = references;
    private readonly ITestOutputHelper _output = output;

    public static TheoryData<string, Wiring> Cases
    {
        get
        {
            var cases = new TheoryData<string, Wiring>();
            foreach (OptionScenario scenario in OptionScenarios.All)
            {
                foreach (Wiring wiring in Enum.GetValues<Wiring>())
                {
                    cases.Add(scenario.Name, wiring);
                }
            }

            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Option_over_wiring_gives_the_local_result_or_is_refused(string option, Wiring wiring)
    {
        OptionScenario scenario = OptionScenarios.Get(option);
        long nowFrom = _references.NowFrom;
        TimeGranularity granularity = WiringRunner.Granularity(wiring);
        (ScenarioTree reference, RecordingObserver expected, Dictionary<string, ulong> referenceBefore) = await _references.GetAsync(scenario);
        List<string> expectedErrors = Errors(expected, reference);

        if (wiring == Wiring.Local)
        {
            Assert.Equal(scenario.ExpectedErrors, expectedErrors);
            scenario.Expect(reference, expected);
            return;
        }

        using IDisposable? attributes = OptionScenarios.UseAttributes(scenario);
        using var directory = new TempDirectory();
        ScenarioTree tree = ScenarioTree.Create(directory.Combine("case"));
        scenario.Prepare?.Invoke(tree);
        List<string> before = [.. TreeSnapshot.Describe(tree.Root, ScenarioTree.Compared, TimeGranularity.Nanoseconds, nowFrom), .. OptionScenarios.AttributeLines(scenario, tree)];
        Dictionary<string, ulong> inodesBefore = TreeSnapshot.Inodes(tree.Root, ScenarioTree.Compared);
        var actual = new RecordingObserver();
        try
        {
            await WiringRunner.RunAsync(wiring, scenario.Options(tree), actual, _sftp.Sftp, scenario.DryRun);
        }
        catch (SyncException refused) when (refused.ErrorId == ErrorIds.InvalidParameterCombination)
        {
            _output.WriteLine($"refused: {refused.Message}");
            Assert.True(actual.Items.Count == 0, $"{wiring} refused {option} ({refused.Message}) after reporting {actual.Items.Count} items");
            List<string> after = [.. TreeSnapshot.Describe(tree.Root, ScenarioTree.Compared, TimeGranularity.Nanoseconds, nowFrom, inodesBefore), .. OptionScenarios.AttributeLines(scenario, tree)];
            Assert.True(before.SequenceEqual(after.Select(l => l.Replace(" (same inode)", string.Empty, StringComparison.Ordinal))),
                $"{wiring} refused {option} ({refused.Message}) but changed the trees: {TreeSnapshot.Difference(before, after)}");
            return;
        }

        List<string> want = [.. TreeSnapshot.Describe(reference.Root, ScenarioTree.Compared, granularity, nowFrom, referenceBefore), .. OptionScenarios.AttributeLines(scenario, reference)];
        List<string> got = [.. TreeSnapshot.Describe(tree.Root, ScenarioTree.Compared, granularity, nowFrom, inodesBefore), .. OptionScenarios.AttributeLines(scenario, tree)];
        List<string> wantItems = Items(expected);
        List<string> gotItems = Items(actual);
        List<string> gotErrors = Errors(actual, tree);
        // One assertion for the three, so that a failure shows every way the wiring differs, not only the first.
        var differences = new List<string>();
        if (!want.SequenceEqual(got))
        {
            differences.Add("trees: " + TreeSnapshot.Difference(want, got));
        }

        if (!wantItems.SequenceEqual(gotItems))
        {
            differences.Add("items: " + TreeSnapshot.Difference(wantItems, gotItems));
        }

        if (!expectedErrors.SequenceEqual(gotErrors))
        {
            differences.Add("errors: " + TreeSnapshot.Difference(expectedErrors, gotErrors));
        }

        Assert.True(differences.Count == 0, $"{option} over {wiring} differs from the local run: {string.Join(" | ", differences)}");
    }

    /// <summary>The reported items as a set: path, action, type.</summary>
    private static List<string> Items(RecordingObserver observer)
    {
        var items = new SortedSet<string>(StringComparer.Ordinal);
        foreach (SyncItem item in observer.Items)
        {
            items.Add($"{item.Action} {item.ItemType} {item.RelativePath}");
        }

        return [.. items];
    }

    /// <summary>The per-item errors as a set: ErrorId and target, the target relative to the tree it names.</summary>
    private static List<string> Errors(RecordingObserver observer, ScenarioTree tree)
    {
        var errors = new SortedSet<string>(StringComparer.Ordinal);
        foreach (SyncException error in observer.Errors)
        {
            string target = error.Target ?? "-";
            foreach (string root in new[] { tree.Source, tree.Destination, tree.Root })
            {
                if (target.StartsWith(root + "/", StringComparison.Ordinal))
                {
                    target = target[(root.Length + 1)..];
                    break;
                }
            }

            errors.Add(error.ErrorId + " " + target);
        }

        return [.. errors];
    }
}
