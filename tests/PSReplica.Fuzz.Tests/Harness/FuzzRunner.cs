using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace PSReplica.Fuzz.Tests.Harness;

/// <summary>Runs a target over its seeds and then over mutations of them, on a thread of its own that the caller watches:
/// an input that makes no progress for <see cref="FuzzSettings.HangTimeout"/> is a hang (the thread is abandoned), one
/// that throws what the target does not call clean, or allocates past <see cref="FuzzSettings.MaxAllocation"/>, is a
/// crash. Each crash's smallest input is written to the crash folder.</summary>
internal static class FuzzRunner
{
    /// <summary>Distinct crashes after which a run stops: enough to see a pattern, few enough to read.</summary>
    private const int MaxDistinctCrashes = 8;

    public static FuzzReport Run(FuzzTarget target, FuzzSettings settings)
    {
        List<byte[]> seeds = Corpus.Seeds(target);
        if (seeds.Count == 0)
        {
            throw new InvalidOperationException($"The target {target.Name} has no seeds.");
        }

        var report = new FuzzReport(target.Name, settings.Seed);
        var random = new Random(unchecked((settings.Seed * 31) + StableHash(target.Name)));
        var mutator = new Mutator(random, seeds, target.Tokens, settings.MaxInputLength);
        long iterations = (long)(settings.Iterations * target.Weight);
        long deadline = settings.Duration is { } duration ? Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        FileStream? lastInputFile = null;
        if (settings.Duration is not null)
        {
            string path = Path.Combine(settings.CrashDirectory, target.Name, "last-input.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            lastInputFile = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1);
        }

        var worker = new Thread(() =>
        {
            foreach (byte[] seed in seeds)
            {
                Execute(target, settings, report, seed, lastInputFile, isSeed: true);
            }

            for (long i = 0; (settings.Duration is null ? i < iterations : Stopwatch.GetTimestamp() < deadline) && report.DistinctCrashes < MaxDistinctCrashes; i++)
            {
                Execute(target, settings, report, mutator.Next(), lastInputFile, isSeed: false);
            }
        }, 16 << 20)
        {
            IsBackground = true,
            Name = "fuzz " + target.Name,
        };

        var clock = Stopwatch.StartNew();
        worker.Start();
        long seen = -1;
        while (!worker.Join(settings.HangTimeout))
        {
            long done = report.Executed;
            if (done == seen)
            {
                // The thread stays blocked or spinning in the decoder; it is a background thread and dies with the process.
                byte[] current = report.Current ?? [];
                report.AddCrash(settings, "hang", $"no input finished in {settings.HangTimeout.TotalSeconds:0} s", current);
                break;
            }

            seen = done;
        }

        report.Elapsed = clock.Elapsed;
        if (!worker.IsAlive)
        {
            lastInputFile?.Dispose();
        }

        return report;
    }

    private static void Execute(FuzzTarget target, FuzzSettings settings, FuzzReport report, byte[] input, FileStream? lastInputFile, bool isSeed)
    {
        if (target.Excluded?.Invoke(input) == true)
        {
            report.Skipped++;
            Interlocked.Increment(ref report.ExecutedCount);
            return;
        }

        report.Current = input;
        if (lastInputFile is not null)
        {
            // A long run: an input that kills the process (a stack overflow) is still on disk afterwards (written through
            // to the kernel, not synced: the process dies, not the machine).
            lastInputFile.Position = 0;
            lastInputFile.Write(input);
            lastInputFile.SetLength(input.Length);
            lastInputFile.Flush();
        }

        long before = Allocated(target);
        try
        {
            target.Run(input);
            report.Accepted++;
            if (isSeed)
            {
                report.SeedsAccepted++;
            }
        }
        catch (Exception ex) when (target.IsClean(ex))
        {
            report.Refused++;
        }
        catch (Exception ex)
        {
            report.AddCrash(settings, Signature(ex), ex.ToString(), input);
        }

        long allocated = Allocated(target) - before;
        if (allocated > settings.MaxAllocation)
        {
            report.AddCrash(settings, "allocation", $"{allocated} bytes allocated for one input of {input.Length} bytes", input);
        }

        Interlocked.Increment(ref report.ExecutedCount);
    }

    private static long Allocated(FuzzTarget target) =>
        target.SpansThreads ? GC.GetTotalAllocatedBytes(precise: false) : GC.GetAllocatedBytesForCurrentThread();

    /// <summary>The exception's type and the first frame in PSReplica's code: the same bug found twice is one crash.</summary>
    private static string Signature(Exception ex)
    {
        string frame = string.Empty;
        foreach (string line in (ex.StackTrace ?? string.Empty).Split('\n'))
        {
            if (line.Contains("PSReplica.", StringComparison.Ordinal) && !line.Contains("PSReplica.Fuzz.Tests", StringComparison.Ordinal))
            {
                frame = line.Trim();
                int at = frame.IndexOf(" in ", StringComparison.Ordinal);
                frame = at < 0 ? frame : frame[..at];
                break;
            }
        }

        return ex.GetType().Name + " " + frame;
    }

    /// <summary>A hash of the name that is the same in every process (string.GetHashCode is randomised per process).</summary>
    private static int StableHash(string name)
    {
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(name));
        return BitConverter.ToInt32(hash, 0);
    }
}
