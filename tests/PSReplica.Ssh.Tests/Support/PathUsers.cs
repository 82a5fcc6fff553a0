using System.Diagnostics;
using System.Globalization;

namespace PSReplica.Ssh.Tests;

/// <summary>The other processes that hold a directory or file below a path open (a descriptor or their working
/// directory). After a run over SSH fails, the server's agent may still be finishing (its queued actions, its temporary
/// files' removal) once the controller has its error; a test that inspects the tree waits for it to let go first.</summary>
internal static class PathUsers
{
    /// <summary>Waits until no other process holds anything below <paramref name="root"/>: each one found is waited for
    /// until it exits, then the processes are looked for again. Fails when one outlives <paramref name="timeout"/>.</summary>
    public static void WaitUntilUnused(string root, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        for (List<int> users = Find(root); users.Count > 0; users = Find(root))
        {
            foreach (int pid in users)
            {
                Process process;
                try
                {
                    process = Process.GetProcessById(pid);
                }
                catch (ArgumentException)
                {
                    continue;
                }

                using (process)
                {
                    TimeSpan left = timeout - clock.Elapsed;
                    Assert.True(left > TimeSpan.Zero && process.WaitForExit(left),
                        $"process {pid} ({Describe(pid)}) still holds {root} open after {timeout.TotalSeconds} s");
                }
            }
        }
    }

    /// <summary>The processes other than this one with a descriptor or working directory at or below
    /// <paramref name="root"/>.</summary>
    public static List<int> Find(string root)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var users = new List<int>();
        foreach (string entry in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                || pid == Environment.ProcessId)
            {
                continue;
            }

            if (Under(Target(Path.Join(entry, "cwd")), full) || Descriptors(entry).Any(fd => Under(Target(fd), full)))
            {
                users.Add(pid);
            }
        }

        return users;
    }

    private static string[] Descriptors(string process)
    {
        try
        {
            return Directory.GetFiles(Path.Join(process, "fd"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string? Target(string link)
    {
        try
        {
            return new FileInfo(link).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool Under(string? path, string root) =>
        path is not null && (path == root || path.StartsWith(root + "/", StringComparison.Ordinal));

    private static string Describe(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "gone";
        }
    }
}
