using System.Diagnostics;
using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>-BandwidthLimit on a local run (issue 14): the copiers charge the bytes they move, so a generous limit costs
/// nothing per file and a tight one holds a mixed run of many small files and a few large ones to the limit. The
/// copier tests run on a <see cref="ManualPacingClock"/>, which moves by the time the work is said to take and by
/// the throttle's waits: what the limit costs is counted, not timed. The last two run the real thing and only check that
/// it cannot have gone faster than the limit (a lower bound on wall time cannot flake).</summary>
public sealed class BandwidthThrottleTests : IDisposable
{
    /// <summary>How fast the pretend disk copies; each file also costs <see cref="PerFile"/> of opening and closing.</summary>
    private const double DiskBytesPerSecond = 32 << 20;

    private static readonly TimeSpan PerFile = TimeSpan.FromTicks(200);

    private readonly TestTree _tree = new();

    /// <summary>300 small files (0 to 4 KiB) with three large ones among them, none a multiple of a chunk.</summary>
    private readonly List<string> _mixed = [];

    public BandwidthThrottleTests()
    {
        var random = new Random(14);
        int[] large = [3 << 20, (1 << 20) + 12_345, 700_001];
        for (int i = 0; i < 300; i++)
        {
            int length = i % 100 == 50 ? large[i / 100] : random.Next(0, 4097);
            _mixed.Add(Write($"mixed/{i:D3}", TestTree.RandomBytes(length, i)));
        }
    }

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void A_generous_limit_never_waits_and_charges_only_the_bytes_copied()
    {
        // A limit above what the disk does: nothing in the run may wait. A fixed charge per file or per read (the
        // chunk reserved before every read, the end-of-file read included, that made 400 tiny files take 40 s whatever
        // the limit) would run ahead of the clock and wait.
        var clock = new ManualPacingClock();
        var throttle = new BandwidthThrottle(64 << 20, clock);

        long copied = CopyMixed(throttle, clock, "generous");

        Assert.Equal(0, clock.Waits);
        Assert.Equal(copied, throttle.Charged);
    }

    [Fact]
    public void A_tight_limit_holds_a_mixed_run_to_the_limit_within_5_percent_in_bounded_bursts()
    {
        const long Limit = 1 << 20;
        BandwidthThrottle? throttle = null;
        long before = 0;
        long burst = 0;
        var clock = new ManualPacingClock
        {
            OnWait = _ =>
            {
                // What was charged since the last wait went without one: that is a burst.
                long charged = throttle!.Charged;
                burst = Math.Max(burst, charged - before);
                before = charged;
            },
        };
        throttle = new BandwidthThrottle(Limit, clock);

        long copied = CopyMixed(throttle, clock, "tight");

        double seconds = clock.Elapsed.TotalSeconds;
        double rate = copied / seconds;
        Assert.True(Math.Abs(rate - Limit) <= 0.05 * Limit, $"{copied} bytes in {seconds:0.000} s is {rate:0} B/s against a limit of {Limit}");
        Assert.True(clock.Waited.TotalSeconds <= (double)copied / Limit, $"waited {clock.Waited} for {copied} bytes");
        Assert.Equal(copied, throttle.Charged);
        long bound = throttle.Chunk + (long)(Limit * (BandwidthThrottle.Credit + BandwidthThrottle.MinimumWait).TotalSeconds);
        Assert.True(burst <= bound, $"{burst} bytes went between two waits (at most {bound})");
    }

    [Fact]
    public void A_delta_is_paced_by_its_literal_data_in_bounded_bursts()
    {
        // Three deltas: a few changed stretches of a 2 MiB file, a 3 MiB file against an unrelated basis, and 5 MiB
        // against an empty one (nothing to search: its literal data comes in runs of the search's 4 MiB buffer, which
        // must not go as one burst after one long wait).
        const long Limit = 1 << 20;
        byte[] basis = TestTree.RandomBytes(2 << 20, 1);
        byte[] changed = (byte[])basis.Clone();
        TestTree.RandomBytes(40_000, 2).CopyTo(changed, 300_000);
        TestTree.RandomBytes(40_000, 3).CopyTo(changed, 1_500_000);
        (byte[] Basis, byte[] Source)[] files =
        [
            (basis, changed),
            (TestTree.RandomBytes(1 << 20, 4), TestTree.RandomBytes(3 << 20, 5)),
            ([], TestTree.RandomBytes(5 << 20, 6)),
        ];

        BandwidthThrottle? throttle = null;
        long before = 0;
        long burst = 0;
        var clock = new ManualPacingClock
        {
            OnWait = _ =>
            {
                long charged = throttle!.Charged;
                burst = Math.Max(burst, charged - before);
                before = charged;
            },
        };
        throttle = new BandwidthThrottle(Limit, clock);
        long literal = 0;
        for (int i = 0; i < files.Length; i++)
        {
            string source = Write($"delta/{i}.new", files[i].Source);
            DeltaResult result = DeltaCopier.Copy(() => FileCopier.OpenSource(source), Write($"delta/{i}.old", files[i].Basis),
                Path.Join(_tree.Root, $"delta-{i}"), null, null, null, CancellationToken.None, throttle);
            Assert.Equal(files[i].Source, File.ReadAllBytes(Path.Join(_tree.Root, $"delta-{i}")));
            literal += result.LiteralBytes;
        }

        Assert.InRange(literal, (8 << 20) + 80_000, (8 << 20) + 200_000);
        Assert.Equal(literal, throttle.Charged);
        double expected = (double)literal / Limit;
        Assert.True(Math.Abs(clock.Waited.TotalSeconds - expected) <= 0.05 * expected, $"waited {clock.Waited} for {literal} literal bytes");
        long bound = throttle.Chunk + (long)(Limit * (BandwidthThrottle.Credit + BandwidthThrottle.MinimumWait).TotalSeconds);
        Assert.True(burst <= bound, $"{burst} literal bytes went between two waits (at most {bound})");
    }

    [Fact]
    public void A_real_local_run_under_a_tight_limit_takes_at_least_its_bytes_over_the_limit()
    {
        string source = Path.Join(_tree.Root, "run-src");
        long bytes = WriteMixedTree(source);
        long limit = bytes / 3;
        var observer = new RecordingObserver();
        var clock = Stopwatch.StartNew();

        LocalReplicator.Run(new SyncOptions { Source = source, Destination = Path.Join(_tree.Root, "run-dst"), BandwidthLimit = limit }, observer,
            CancellationToken.None);

        clock.Stop();
        Assert.Empty(observer.Errors);
        Assert.Equal(bytes, observer.Items.Sum(i => i.BytesTransferred));
        AssertNoFasterThan(bytes, limit, clock.Elapsed);
    }

    [Fact]
    public void A_real_local_delta_run_under_a_tight_limit_takes_at_least_its_literal_bytes_over_the_limit()
    {
        // Every destination file is there with other content: all of it goes as literal data.
        string source = Path.Join(_tree.Root, "delta-src");
        string destination = Path.Join(_tree.Root, "delta-dst");
        long bytes = WriteMixedTree(source);
        WriteMixedTree(destination, seed: 1000);
        long limit = bytes / 3;
        var observer = new RecordingObserver();
        var clock = Stopwatch.StartNew();

        LocalReplicator.Run(new SyncOptions
        {
            Source = source,
            Destination = destination,
            TransferMode = TransferMode.Delta,
            CompareMode = CompareMode.Checksum,
            BandwidthLimit = limit,
        }, observer, CancellationToken.None);

        clock.Stop();
        Assert.Empty(observer.Errors);
        long literal = observer.Items.Sum(i => i.BytesTransferred);
        Assert.True(literal > bytes * 0.9, $"{literal} literal bytes of {bytes}");
        AssertNoFasterThan(literal, limit, clock.Elapsed);
    }

    /// <summary>The bar: the run's average rate is no more than 5% over the limit, whatever its mix.</summary>
    internal static void AssertNoFasterThan(long bytes, long limit, TimeSpan elapsed)
    {
        double floor = 0.95 * bytes / limit;
        Assert.True(elapsed.TotalSeconds >= floor, $"{bytes} bytes at {limit} B/s took {elapsed.TotalSeconds:0.000} s (at least {floor:0.000} s)");
    }

    /// <summary>400 files of 1 byte to 4 KiB and two of 1 MiB and 600 KB, in 8 directories; returns their bytes.</summary>
    internal static long WriteMixedTree(string root, int seed = 0)
    {
        var random = new Random(seed);
        long bytes = 0;
        for (int i = 0; i < 402; i++)
        {
            int length = i switch { 100 => 1 << 20, 300 => 600_000, _ => random.Next(1, 4097) };
            string path = Path.Join(root, $"d{i % 8}", $"f{i:D3}");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, TestTree.RandomBytes(length, seed + i));
            bytes += length;
        }

        return bytes;
    }

    /// <summary>Copies the mixed files one after another as a worker would, the clock moving by the pretend disk's time
    /// as each chunk is copied; returns the bytes copied.</summary>
    private long CopyMixed(BandwidthThrottle throttle, ManualPacingClock clock, string name)
    {
        long total = 0;
        for (int i = 0; i < _mixed.Count; i++)
        {
            long done = 0;
            clock.Advance(PerFile);
            total += FileCopier.Copy(_mixed[i], Path.Join(_tree.Root, $"{name}-{i}"), copied =>
            {
                clock.Advance(TimeSpan.FromSeconds((copied - done) / DiskBytesPerSecond));
                done = copied;
            }, null, CancellationToken.None, throttle);
            Assert.Equal(new FileInfo(_mixed[i]).Length, new FileInfo(Path.Join(_tree.Root, $"{name}-{i}")).Length);
        }

        Assert.True(total > 4 << 20, $"{total} bytes");
        return total;
    }

    private string Write(string relative, byte[] content)
    {
        string path = Path.Join(_tree.Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }
}
