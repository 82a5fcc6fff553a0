using System.Diagnostics;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>Issue 18 D5: a destination directory its owner cannot write (0555 in both trees, as a non-root user) is
/// opened for the owner while the run creates, replaces or deletes in it and gets its mode back at the end, so the run
/// converges as rsync's does. The receiver is the agent, run as a child process as the unprivileged user <c>nobody</c>
/// (root writes anywhere, which is why the defect hid from the other tests); the tree it writes is that user's.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ClosedDirectoriesTests : IDisposable
{
    private const string User = "nobody";
    private const int Closed = 0x16D;

    private readonly TestTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public async Task A_push_as_a_user_converges_into_directories_the_user_cannot_write_and_leaves_their_mode()
    {
        Assert.True(CanRunAsUser, "CI runs as root: the agent is started as an unprivileged user through runuser (util-linux)");
        _tree.Src("ro/changed.txt", "new content", TestTree.BaseTime + 10);
        _tree.Src("ro/new.txt", "new", TestTree.BaseTime);
        _tree.Src("ro/sub/new.txt", "deeper", TestTree.BaseTime);
        _tree.Src("top.txt", "top", TestTree.BaseTime);
        _tree.Dst("ro/changed.txt", "old", TestTree.BaseTime);
        _tree.Dst("ro/extraneous.txt", "x", TestTree.BaseTime);
        _tree.Dst("ro/sub/old.txt", "x", TestTree.BaseTime);
        _tree.Dst("gone/inside.txt", "x", TestTree.BaseTime);
        Directory.CreateDirectory(Path.Join(_tree.Destination, "ro/sub"));
        foreach (string root in new[] { _tree.Source, _tree.Destination })
        {
            Directory.CreateDirectory(Path.Join(root, "ro/sub"));
            Chmod(Path.Join(root, "ro/sub"), Closed);
            Chmod(Path.Join(root, "ro"), Closed);
            Chmod(root, Closed);
        }

        Chmod(Path.Join(_tree.Destination, "gone"), Closed);
        GiveToUser();
        SyncOptions options = _tree.Options() with { Delete = true };

        RecordingObserver first = await RunAsUserAsync(options);

        Assert.Empty(first.Errors);
        RandomTree.AssertSame(_tree.Source, _tree.Destination);
        Assert.False(Directory.Exists(Path.Join(_tree.Destination, "gone")));
        foreach (string directory in new[] { "", "ro", "ro/sub" })
        {
            Assert.Equal(Closed, TestTree.Stat(Path.Join(_tree.Destination, directory)).Permissions);
        }

        RecordingObserver second = await RunAsUserAsync(options);
        Assert.Empty(second.Errors);
        Assert.Empty(second.Items);
    }

    [Fact]
    public async Task A_run_that_fails_inside_an_opened_directory_still_gives_it_its_mode_back()
    {
        Assert.True(CanRunAsUser, "CI runs as root: the agent is started as an unprivileged user through runuser (util-linux)");
        _tree.Src("ro/new.txt", "new", TestTree.BaseTime);
        _tree.Src("ro/root-owned/f.txt", "new content", TestTree.BaseTime + 10);
        _tree.Dst("ro/root-owned/f.txt", "old", TestTree.BaseTime);
        Chmod(Path.Join(_tree.Source, "ro"), Closed);
        Chmod(Path.Join(_tree.Destination, "ro"), Closed);
        GiveToUser();
        // A directory of someone else's (root's) that the user may not write in: its file fails, the rest goes on.
        Assert.Equal(0, Posix.Lchown(Path.Join(_tree.Source, "ro/root-owned"), 0, 0));
        Assert.Equal(0, Posix.Lchown(Path.Join(_tree.Destination, "ro/root-owned"), 0, 0));

        RecordingObserver observer = await RunAsUserAsync(_tree.Options());

        SyncException error = Assert.Single(observer.Errors);
        Assert.Equal("ro/root-owned/f.txt", error.Target);
        Assert.Equal("new", File.ReadAllText(Path.Join(_tree.Destination, "ro/new.txt")));
        Assert.Equal(Closed, TestTree.Stat(Path.Join(_tree.Destination, "ro")).Permissions);
    }

    private static bool CanRunAsUser => Environment.UserName == "root" && File.Exists("/usr/sbin/runuser");

    private static void Chmod(string path, int mode) => Assert.Equal(0, Posix.Chmod(path, mode));

    /// <summary>Both trees become the user's (the controller, root, keeps owners: the source's must be ones the user may
    /// give); the test's own directory is opened for the user to reach them.</summary>
    private void GiveToUser()
    {
        Chmod(_tree.Root, 0x1ED);
        Run("chown", "-R", $"{User}:", _tree.Source, _tree.Destination);
    }

    private static void Run(string program, params string[] arguments)
    {
        using Process process = Process.Start(program, arguments);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    /// <summary>A push to the managed agent running as <see cref="User"/>.</summary>
    private static async Task<RecordingObserver> RunAsUserAsync(SyncOptions options)
    {
        string agent = Path.Join(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "PSReplica.Agent", "bin",
            new DirectoryInfo(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!).Name,
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Name, "PSReplica.Agent.dll");
        var info = new ProcessStartInfo("/usr/sbin/runuser")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "-u", User, "--", "dotnet", "exec", Path.GetFullPath(agent), "--serve" })
        {
            info.ArgumentList.Add(argument);
        }

        var observer = new RecordingObserver();
        using Process process = Process.Start(info)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Stream toAgent = process.StandardInput.BaseStream;
        try
        {
            await using RemoteReplicator replicator = await RemoteReplicator.ConnectAsync(process.StandardOutput.BaseStream, toAgent,
                RemoteSide.Destination, options.Destination, new RemoteSessionOptions(), CancellationToken.None);
            await Task.Run(() => replicator.Run(options, observer, CancellationToken.None));
        }
        finally
        {
            toAgent.Dispose();
            Assert.True(process.WaitForExit(30_000), "The agent did not exit after the session.");
        }

        Assert.True(process.ExitCode == 0, "The agent failed: " + await stderr);
        return observer;
    }
}
