using System.Diagnostics;

namespace PSReplica.Engine.Tests.Faults;

/// <summary>A read-only FUSE view (failing-reads.py, on Debian's python3-fusepy; root and /dev/fuse) of a backing
/// directory in which the files whose name contains ".eio" fail to read with EIO past <see cref="Offset"/> bytes, a disk
/// that fails part way through a file, until <see cref="Heal"/>. Dispose unmounts it, whatever the test did.</summary>
internal sealed class FailingReadsMount : IDisposable
{
    public const int Offset = 64 * 1024;

    private const string Python = "/usr/bin/python3";

    private readonly Process _server;
    private readonly string _switch;

    public FailingReadsMount(string backing, string mountPoint)
    {
        if (!Posix.IsElevated || !File.Exists("/dev/fuse") || !File.Exists("/usr/lib/python3/dist-packages/fusepy.py"))
        {
            Assert.Fail("This test mounts a FUSE file system: it needs root, /dev/fuse and Debian's python3-fusepy (.ci/run installs it).");
        }

        Directory.CreateDirectory(mountPoint);
        Path = mountPoint;
        _switch = mountPoint + ".failing";
        File.WriteAllText(_switch, string.Empty);
        var info = new ProcessStartInfo(Python) { UseShellExecute = false, RedirectStandardError = true };
        foreach (string argument in new[] { System.IO.Path.Join(AppContext.BaseDirectory, "Faults", "failing-reads.py"), backing, mountPoint, _switch, Offset.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        _server = Process.Start(info)!;
        // The mount appears once the server has answered the kernel's first request; polled, with the server's death as
        // the way out.
        var clock = Stopwatch.StartNew();
        while (!Mounted())
        {
            if (_server.HasExited || clock.Elapsed > TimeSpan.FromMinutes(1))
            {
                string why = _server.HasExited ? _server.StandardError.ReadToEnd() : "no mount after a minute";
                Dispose();
                Assert.Fail($"failing-reads.py did not mount {mountPoint}: {why}");
            }

            Thread.Sleep(20);
        }
    }

    public string Path { get; }

    /// <summary>From now on every file reads whole.</summary>
    public void Heal() => File.Delete(_switch);

    public void Dispose()
    {
        if (Mounted())
        {
            // umount, not fusermount: root needs no helper, and fusermount (Debian's fuse) may not be installed.
            TestTree.Run("umount", Path);
        }

        if (!_server.WaitForExit(30_000))
        {
            _server.Kill();
        }

        _server.Dispose();
        File.Delete(_switch);
    }

    private bool Mounted()
    {
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            string[] fields = line.Split(' ');
            if (fields.Length > 4 && fields[4] == Path)
            {
                return true;
            }
        }

        return false;
    }
}
