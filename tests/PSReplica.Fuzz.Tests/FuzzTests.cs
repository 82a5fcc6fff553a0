using PSReplica.Fuzz.Tests.Targets;
using Xunit.Abstractions;

namespace PSReplica.Fuzz.Tests;

/// <summary>Issue 18's fuzzing: every decoder that reads what a peer or a user wrote gets its seeds and a fixed number of
/// mutations of them from a fixed seed (the same inputs on every run), and must refuse each bad one cleanly, within
/// time and memory bounds. tests/Fuzz/README.md tells how to run it for hours from a random seed.</summary>
public sealed class FuzzTests
{
    private readonly ITestOutputHelper _output;

    public FuzzTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Targets()
    {
        var names = new TheoryData<string>();
        foreach (FuzzTarget target in FuzzTargets.All)
        {
            names.Add(target.Name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void A_target_refuses_every_mutated_input_cleanly(string target)
    {
        FuzzSettings settings = FuzzSettings.FromEnvironment();
        if (settings.Targets is { } selected && !selected.Contains(target, StringComparer.Ordinal))
        {
            _output.WriteLine($"{target}: not selected (PSREPLICA_FUZZ_TARGETS)");
            return;
        }

        FuzzReport report = FuzzRunner.Run(FuzzTargets.Named(target), settings);
        _output.WriteLine(report.Summary);

        Assert.True(report.DistinctCrashes == 0, report.Describe());
        // The seeds are valid inputs: a decoder that refused them all would pass every mutation without testing anything.
        Assert.True(report.SeedsAccepted > 0, report.Summary);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void A_target_has_a_committed_corpus(string target)
    {
        FuzzSettings settings = FuzzSettings.FromEnvironment();
        if (settings.WriteCorpusTo is { } root)
        {
            _output.WriteLine($"{Corpus.Write(FuzzTargets.Named(target), root)} seeds written to {Path.Combine(root, target)}");
        }

        Assert.NotEmpty(Corpus.Committed(target));
    }
}
