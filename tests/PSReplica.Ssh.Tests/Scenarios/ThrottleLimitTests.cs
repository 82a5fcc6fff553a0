using PSReplica.Engine.Tests;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>-ThrottleLimit (issue 14) sets how many copy workers a run has, over every wiring. Each copy of a file of
/// 16 MiB or more reports its start and its end (the run's progress for a large file), which shows how many were copying
/// at once: with a limit of N, one more file than N, so that a run with more workers than asked for would copy them
/// all at once. The first N to start wait at their start until all N have started, so that N really do run together
/// (a run with fewer workers than asked for never gets there and fails on the wait's bound).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ThrottleLimitTests(SftpFixture sftp) : IClassFixture<SftpFixture>
{
    private const long Large = 16L << 20;

    private readonly SftpFixture _sftp = sftp;

    public static TheoryData<Wiring, int> Cases
    {
        get
        {
            var cases = new TheoryData<Wiring, int>();
            foreach (Wiring wiring in Enum.GetValues<Wiring>())
            {
                cases.Add(wiring, 1);
                cases.Add(wiring, 3);
            }

            return cases;
        }
    }

    public static TheoryData<Wiring, int> Refused
    {
        get
        {
            var cases = new TheoryData<Wiring, int>();
            foreach (Wiring wiring in Enum.GetValues<Wiring>())
            {
                cases.Add(wiring, 0);
                cases.Add(wiring, 65);
            }

            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_limit_is_the_number_of_files_copied_at_once(Wiring wiring, int limit)
    {
        using var directory = new TempDirectory();
        string source = directory.Combine("src");
        Directory.CreateDirectory(source);
        for (int i = 0; i <= limit; i++)
        {
            File.WriteAllBytes(Path.Join(source, $"large-{i}.bin"), TestTree.RandomBytes((int)Large + i, i));
        }

        using var together = new Barrier(limit);
        var gate = new object();
        var copying = new HashSet<string>(StringComparer.Ordinal);
        var started = new HashSet<string>(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        int most = 0;
        bool waitTimedOut = false;
        var observer = new RecordingObserver
        {
            OnProgressHook = progress =>
            {
                if (progress.CurrentPath is not { } path || progress.CurrentLength < Large)
                {
                    return;
                }

                bool first = false;
                lock (gate)
                {
                    if (progress.CurrentBytesDone == 0 && started.Add(path))
                    {
                        copying.Add(path);
                        most = Math.Max(most, copying.Count);
                        first = started.Count <= limit;
                    }
                    else if (progress.CurrentBytesDone == progress.CurrentLength && finished.Add(path))
                    {
                        copying.Remove(path);
                    }
                }

                // A bound on a wait for the other workers, not a pause: it only ends a run that lacks them.
                if (first && !together.SignalAndWait(TimeSpan.FromSeconds(60)))
                {
                    waitTimedOut = true;
                }
            },
        };

        await WiringRunner.RunAsync(wiring, new SyncOptions
        {
            Source = source,
            Destination = directory.Combine("dst"),
            ThrottleLimit = limit,
        }, observer, _sftp.Sftp);

        Assert.Empty(observer.Errors);
        Assert.False(waitTimedOut, $"{limit} copies never ran at once over {wiring}");
        Assert.Equal(limit + 1, started.Count);
        Assert.Equal(limit + 1, finished.Count);
        Assert.Equal(limit, most);
        Assert.Equal(limit + 1, observer.Items.Count(i => i is { Action: SyncAction.Create, ItemType: SyncItemType.File }));
        for (int i = 0; i <= limit; i++)
        {
            Assert.Equal(Large + i, new FileInfo(directory.Combine("dst", $"large-{i}.bin")).Length);
        }
    }

    [Theory]
    [InlineData(Wiring.AgentPush)]
    [InlineData(Wiring.AgentPull)]
    [InlineData(Wiring.SftpPush)]
    [InlineData(Wiring.SftpPull)]
    public async Task The_most_workers_keep_within_a_session(Wiring wiring)
    {
        // Up to 64 workers, each holding a request of its own, while the small files go in a batch beside them: together
        // more than an agent session may have open at once (64) if the controller did not wait for a free one.
        using var directory = new TempDirectory();
        string source = directory.Combine("src");
        Directory.CreateDirectory(source);
        for (int i = 0; i < 300; i++)
        {
            File.WriteAllBytes(Path.Join(source, $"f{i:D3}"), TestTree.RandomBytes(i % 2 == 0 ? (260 << 10) + i : 100 + i, i));
        }

        var observer = new RecordingObserver();
        await WiringRunner.RunAsync(wiring, new SyncOptions
        {
            Source = source,
            Destination = directory.Combine("dst"),
            ThrottleLimit = 64,
        }, observer, _sftp.Sftp);

        Assert.Empty(observer.Errors);
        Assert.Equal(300, observer.Items.Count(i => i is { Action: SyncAction.Create, ItemType: SyncItemType.File }));
        for (int i = 0; i < 300; i += 37)
        {
            Assert.Equal(File.ReadAllBytes(Path.Join(source, $"f{i:D3}")), File.ReadAllBytes(directory.Combine("dst", $"f{i:D3}")));
        }
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_limit_outside_1_to_64_is_refused_before_anything_is_touched(Wiring wiring, int limit)
    {
        using var directory = new TempDirectory();
        string source = directory.Combine("src");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Join(source, "a.txt"), "a");
        var observer = new RecordingObserver();

        SyncException refused = await Assert.ThrowsAsync<SyncException>(() => WiringRunner.RunAsync(wiring, new SyncOptions
        {
            Source = source,
            Destination = directory.Combine("dst"),
            ThrottleLimit = limit,
        }, observer, _sftp.Sftp));

        Assert.Equal(ErrorIds.InvalidParameterCombination, refused.ErrorId);
        Assert.Empty(observer.Items);
        Assert.False(Directory.Exists(directory.Combine("dst")), "the destination was made");
    }
}
