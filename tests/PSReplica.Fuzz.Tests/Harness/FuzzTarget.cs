using System.Text;

namespace PSReplica.Fuzz.Tests.Harness;

/// <summary>One decoder under fuzzing: how to feed it an input, which failures are clean (the documented refusal of bad
/// input), and the valid inputs its real encoder writes, which the mutator starts from.</summary>
internal sealed class FuzzTarget
{
    /// <summary>The folder name under tests/Fuzz/corpus and the name in reports.</summary>
    public required string Name { get; init; }

    /// <summary>Feeds one input to the decoder. Returning is a pass, and so is throwing what <see cref="IsClean"/> accepts.</summary>
    public required Action<byte[]> Run { get; init; }

    /// <summary>Whether an exception is a clean refusal of the input (an ErrorId that the decoder documents).</summary>
    public required Func<Exception, bool> IsClean { get; init; }

    /// <summary>Valid inputs written by the real encoders, produced at run time (so that they follow the format as it
    /// is); the committed corpus is added to them.</summary>
    public required Func<IEnumerable<byte[]>> Seeds { get; init; }

    /// <summary>Byte strings the mutator inserts: tags, keywords, separators.</summary>
    public IReadOnlyList<byte[]> Tokens { get; init; } = [];

    /// <summary>The share of the run's mutations this target gets, against 1 for a cheap decoder.</summary>
    public double Weight { get; init; } = 1;

    /// <summary>An input the target must not be given (it would leave the process's sandbox: read a device, a system
    /// file); counted as skipped, never as a pass.</summary>
    public Func<byte[], bool>? Excluded { get; init; }

    /// <summary>Whether the decoder runs on other threads too (the multiplexer's read loop): its allocations are then
    /// measured for the whole process, else for the fuzzing thread alone.</summary>
    public bool SpansThreads { get; init; }

    /// <summary>Whether the seeds are text (written to the corpus as .txt files).</summary>
    public bool IsText { get; init; }

    public override string ToString() => Name;

    public static IReadOnlyList<byte[]> Words(params string[] words)
    {
        var tokens = new List<byte[]>(words.Length);
        foreach (string word in words)
        {
            tokens.Add(Encoding.UTF8.GetBytes(word));
        }

        return tokens;
    }

    /// <summary>Clean when the exception is a SyncException with one of <paramref name="errorIds"/>.</summary>
    public static Func<Exception, bool> SyncErrors(params string[] errorIds) =>
        ex => ex is SyncException sync && Array.IndexOf(errorIds, sync.ErrorId) >= 0;
}
