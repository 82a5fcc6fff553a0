using System.Diagnostics;
using RacePath = PSReplica.Engine.Tests.Receiving.DestinationRaceTests.RacePath;

namespace PSReplica.Engine.Tests.Receiving;

/// <summary>Issue 18 item 1 under CPU load: the paths of <see cref="DestinationRaceTests"/> (-Delete with -Backup into a
/// backup directory, -LinkDest, -PartialDirectory with -DelayUpdates), each attacked by a real concurrent swapper that
/// turns the directory the path works in into a link to the outside directory and back in a tight loop, while as many
/// spinning threads as there are cores keep the machine loaded, so the interleavings differ from run to run. The race
/// may be won or lost; on every outcome nothing outside changes and no outside content reaches the replica. Each case
/// repeats the race on fresh trees for a bounded time (no sleeps: the swapper and the spinners stop when the run ends).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RaceUnderLoadTests
{
    private const int MaxIterations = 12;
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(1.5);

    public static TheoryData<RacePath, bool> Cases()
    {
        var data = new TheoryData<RacePath, bool>();
        foreach (RacePath path in new[] { RacePath.Delete, RacePath.LinkDest, RacePath.PartialDirectory })
        {
            data.Add(path, false);
            data.Add(path, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_concurrent_swapper_under_load_never_lets_the_run_reach_outside(RacePath path, bool throughAgent)
    {
        var clock = Stopwatch.StartNew();
        long swaps = 0;
        for (int iteration = 0; iteration < MaxIterations && (iteration == 0 || clock.Elapsed < s_budget); iteration++)
        {
            using var tree = new TestTree();
            DestinationRaceTests.Race race = DestinationRaceTests.Race.Prepare(tree, path);
            if (path == RacePath.Delete)
            {
                // The extraneous files' backups go to a backup directory beside the trees.
                DestinationRaceTests.Write(tree.Root, "bak/gone/keep.txt", "kept", TestTree.BaseTime);
            }

            race.Snapshot();
            SyncOptions options = tree.Options(delete: path == RacePath.Delete) with
            {
                Backup = path == RacePath.Delete,
                BackupDirectory = path == RacePath.Delete ? "../bak" : null,
                LinkDest = path == RacePath.LinkDest ? ["../day1"] : [],
                PartialDirectory = path == RacePath.PartialDirectory ? ".pd" : null,
                DelayUpdates = path == RacePath.PartialDirectory,
            };

            swaps += await RunUnderAttackAsync(race.Victim, race.Outside,
                () => DestinationRaceTests.RunAsync(options, new RecordingObserver(), throughAgent));
            race.AssertOutsideUntouched();
        }

        // A race that never happened proves nothing.
        Assert.True(swaps > 0, "the swapper never swapped while a run was in progress");
    }

    /// <summary>Runs <paramref name="run"/> while a swapper thread swaps <paramref name="victim"/> for a link to
    /// <paramref name="outside"/> and back, and spinners load every core; returns the swaps made. The victim is as it was
    /// when this returns (the run may have removed it).</summary>
    private static async Task<long> RunUnderAttackAsync(string victim, string outside, Func<Task> run)
    {
        int running = 1;
        long swaps = 0;
        Exception? failure = null;
        var threads = new List<Thread>
        {
            new(() =>
            {
                try
                {
                    while (Volatile.Read(ref running) == 1)
                    {
                        SwapForLink(victim, outside);
                        Interlocked.Increment(ref swaps);
                    }
                }
                catch (Exception ex)
                {
                    failure = ex;
                }
            }) { IsBackground = true, Name = "symlink swapper" },
        };
        for (int i = 0; i < Environment.ProcessorCount; i++)
        {
            threads.Add(new Thread(() =>
            {
                while (Volatile.Read(ref running) == 1)
                {
                    Thread.SpinWait(1000);
                }
            }) { IsBackground = true, Name = "spinner" });
        }

        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        try
        {
            await run().WaitAsync(TimeSpan.FromSeconds(120));
        }
        finally
        {
            Volatile.Write(ref running, 0);
            foreach (Thread thread in threads)
            {
                thread.Join();
            }
        }

        Assert.Null(failure);
        return Interlocked.Read(ref swaps);
    }

    /// <summary><c>mv victim victim.moved; ln -s outside victim</c>, then back; a step the run got ahead of is skipped.
    /// Rename and unlink act on names: nothing here follows a link.</summary>
    private static void SwapForLink(string victim, string outside)
    {
        string moved = victim + ".moved";
        if (Posix.Rename(victim, moved) == 0)
        {
            try
            {
                File.CreateSymbolicLink(victim, outside);
            }
            catch (IOException)
            {
                // The run made the name again in between.
            }
        }

        if (Posix.Stat(victim, follow: false, out StatInfo info) == 0 && info.FileType == Posix.SIflnk)
        {
            _ = Posix.Unlink(victim);
        }

        _ = Posix.Rename(moved, victim);
    }
}
