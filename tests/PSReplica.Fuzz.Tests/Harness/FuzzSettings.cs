using System.Globalization;

namespace PSReplica.Fuzz.Tests.Harness;

/// <summary>How long and from which seed a run goes. The defaults are CI's short run: a fixed seed and a fixed number
/// of mutations per target, the same inputs on every machine. tests/Fuzz/Invoke-Fuzz.ps1 sets the environment variables
/// for a long run (a random seed, minutes per target).</summary>
internal sealed record FuzzSettings
{
    /// <summary>The seed of CI's run (the day the harness was written).</summary>
    public const int DefaultSeed = 20261206;

    /// <summary>Mutations per target of weight 1 in CI's run.</summary>
    public const int DefaultIterations = 4000;

    private static readonly int s_randomSeed = Random.Shared.Next();

    public int Seed { get; init; } = DefaultSeed;

    public int Iterations { get; init; } = DefaultIterations;

    /// <summary>A long run: each target runs this long (the iteration count is then ignored); null for the fixed count.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>An input that takes longer than this is a hang. Each input takes micro- to milliseconds; the margin is for a
    /// loaded machine.</summary>
    public TimeSpan HangTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Managed bytes one input may make the decoder allocate; more is a crash (a forged length or count that
    /// the decoder believed).</summary>
    public long MaxAllocation { get; init; } = 64L << 20;

    /// <summary>The longest input the mutator makes.</summary>
    public int MaxInputLength { get; init; } = 64 << 10;

    /// <summary>Where crashing inputs are written (one folder per target).</summary>
    public required string CrashDirectory { get; init; }

    /// <summary>Set: only these targets run (tests/Fuzz/Invoke-Fuzz.ps1 -Target); the others' tests pass without running.</summary>
    public IReadOnlyList<string>? Targets { get; init; }

    /// <summary>Set: the corpus test writes the encoders' seeds there (tests/Fuzz/Invoke-Fuzz.ps1 -WriteCorpus).</summary>
    public string? WriteCorpusTo { get; init; }

    public static FuzzSettings FromEnvironment()
    {
        string? seed = Environment.GetEnvironmentVariable("PSREPLICA_FUZZ_SEED");
        string? iterations = Environment.GetEnvironmentVariable("PSREPLICA_FUZZ_ITERATIONS");
        string? minutes = Environment.GetEnvironmentVariable("PSREPLICA_FUZZ_MINUTES");
        string? crashes = Environment.GetEnvironmentVariable("PSREPLICA_FUZZ_CRASHES");
        string? corpus = Environment.GetEnvironmentVariable("PSREPLICA_FUZZ_WRITE_CORPUS");
        string? targets = Environment.GetEnvironmentVariable("PSREPLICA_FUZZ_TARGETS");
        return new FuzzSettings
        {
            Seed = string.IsNullOrEmpty(seed) ? DefaultSeed
                : seed == "random" ? s_randomSeed : int.Parse(seed, CultureInfo.InvariantCulture),
            Iterations = string.IsNullOrEmpty(iterations) ? DefaultIterations : int.Parse(iterations, CultureInfo.InvariantCulture),
            Duration = string.IsNullOrEmpty(minutes) ? null : TimeSpan.FromMinutes(double.Parse(minutes, CultureInfo.InvariantCulture)),
            CrashDirectory = string.IsNullOrEmpty(crashes) ? Path.Combine(RepositoryRoot() ?? Path.GetTempPath(), "out", "TestResults", "fuzz-crashes") : crashes,
            WriteCorpusTo = string.IsNullOrEmpty(corpus) ? null : corpus,
            Targets = string.IsNullOrEmpty(targets) ? null : targets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        };
    }

    /// <summary>The folder holding PSReplica.sln above the test's output folder, or null when run elsewhere.</summary>
    public static string? RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PSReplica.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}
