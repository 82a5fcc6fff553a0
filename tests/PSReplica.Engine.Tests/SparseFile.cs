using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Tests;

/// <summary>Sparse files for the -Sparse tests: made with holes, measured by what the file system allocated to them
/// (st_blocks), compared by content without holding them in memory.</summary>
internal static class SparseFile
{
    /// <summary>A new file of <paramref name="length"/> bytes whose data are the given stretches of seeded random bytes
    /// (or of written zeros, seed 0), the rest holes.</summary>
    public static string Create(string path, long length, params (long Offset, int Length, int Seed)[] data)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using SafeFileHandle file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
        foreach ((long offset, int count, int seed) in data)
        {
            RandomAccess.Write(file, seed == 0 ? new byte[count] : TestTree.RandomBytes(count, seed), offset);
        }

        RandomAccess.SetLength(file, length);
        return path;
    }

    /// <summary>The bytes the file system allocated to the file (st_blocks, in 512-byte units).</summary>
    public static long Allocated(string path) =>
        long.Parse(TestTree.Run("stat", "-c", "%b", path).Trim(), System.Globalization.CultureInfo.InvariantCulture) * 512;

    /// <summary>Whether two files have the same length and bytes.</summary>
    public static bool SameContent(string a, string b)
    {
        using FileStream left = File.OpenRead(a);
        using FileStream right = File.OpenRead(b);
        if (left.Length != right.Length)
        {
            return false;
        }

        byte[] one = new byte[1 << 20];
        byte[] two = new byte[1 << 20];
        while (true)
        {
            int n = left.ReadAtLeast(one, one.Length, throwOnEndOfStream: false);
            int m = right.ReadAtLeast(two, two.Length, throwOnEndOfStream: false);
            if (n != m || !one.AsSpan(0, n).SequenceEqual(two.AsSpan(0, m)))
            {
                return false;
            }

            if (n == 0)
            {
                return true;
            }
        }
    }
}
