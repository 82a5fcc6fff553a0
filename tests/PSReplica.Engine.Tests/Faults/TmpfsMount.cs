namespace PSReplica.Engine.Tests.Faults;

/// <summary>A small tmpfs mounted on a directory of the test (root only), to make a destination run out of space or of
/// inodes; <see cref="Grow"/> frees it (a remount keeps what it holds). Dispose unmounts it, whatever the test did.</summary>
internal sealed class TmpfsMount : IDisposable
{
    /// <param name="size">tmpfs's size= option (bytes, or with k, m, g).</param>
    /// <param name="inodes">tmpfs's nr_inodes= option: how many files and directories it can hold, the root included.</param>
    public TmpfsMount(string directory, string size, long inodes = 0)
    {
        if (!Posix.IsElevated)
        {
            Assert.Fail("This test mounts a tmpfs: it needs root (CI runs as root).");
        }

        Directory.CreateDirectory(directory);
        Path = directory;
        TestTree.Run("mount", "-t", "tmpfs", "-o", Options(size, inodes), "tmpfs", directory);
    }

    public string Path { get; }

    /// <summary>Gives the file system room again: a re-run after the failure must then converge.</summary>
    public void Grow(string size, long inodes = 100_000) => TestTree.Run("mount", "-o", "remount," + Options(size, inodes), Path);

    public void Dispose() => TestTree.Run("umount", Path);

    private static string Options(string size, long inodes) =>
        "size=" + size + (inodes > 0 ? ",nr_inodes=" + inodes.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Empty);
}
