using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PSReplica.Fuzz.Tests.Harness;

/// <summary>What one target's run did: inputs accepted, refused cleanly, skipped, and the crashes (each with its
/// smallest input, written to the crash folder).</summary>
internal sealed class FuzzReport
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Crash> _crashes = new(StringComparer.Ordinal);

    public FuzzReport(string target, int seed)
    {
        Target = target;
        Seed = seed;
    }

    public string Target { get; }

    public int Seed { get; }

    public long ExecutedCount;

    public long Executed => Interlocked.Read(ref ExecutedCount);

    public long Accepted { get; set; }

    public long SeedsAccepted { get; set; }

    public long Refused { get; set; }

    public long Skipped { get; set; }

    public TimeSpan Elapsed { get; set; }

    /// <summary>The input being decoded (the hang's input when the watcher gives up).</summary>
    public volatile byte[]? Current;

    public int DistinctCrashes
    {
        get
        {
            lock (_gate)
            {
                return _crashes.Count;
            }
        }
    }

    public IReadOnlyList<Crash> Crashes
    {
        get
        {
            lock (_gate)
            {
                return [.. _crashes.Values];
            }
        }
    }

    public void AddCrash(FuzzSettings settings, string signature, string detail, byte[] input)
    {
        lock (_gate)
        {
            if (_crashes.TryGetValue(signature, out Crash? known) && known.Input.Length <= input.Length)
            {
                return;
            }

            string name = signature.StartsWith("hang", StringComparison.Ordinal) ? "hang" : signature.StartsWith("allocation", StringComparison.Ordinal) ? "allocation" : "crash";
            string file = Path.Combine(settings.CrashDirectory, Target, $"{name}-{Convert.ToHexStringLower(SHA256.HashData(input))[..16]}.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, input);
            File.WriteAllText(Path.ChangeExtension(file, ".txt"), $"target {Target}, seed {Seed}\n{signature}\n{detail}\n");
            _crashes[signature] = new Crash(signature, detail, input, file);
        }
    }

    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"{Target}: seed {Seed}, {Executed} inputs in {Elapsed.TotalSeconds:0.0} s ({Accepted} accepted, {SeedsAccepted} of them seeds; {Refused} refused cleanly; {Skipped} skipped), {DistinctCrashes} crashes");

    public string Describe()
    {
        var text = new StringBuilder(Summary);
        foreach (Crash crash in Crashes)
        {
            text.Append("\n- ").Append(crash.Signature).Append(" (").Append(crash.File).Append("), input (base64): ")
                .Append(crash.Input.Length <= 4096 ? Convert.ToBase64String(crash.Input) : $"{crash.Input.Length} bytes, see the file")
                .Append('\n').Append(crash.Detail);
        }

        return text.ToString();
    }

    public sealed record Crash(string Signature, string Detail, byte[] Input, string File);
}
