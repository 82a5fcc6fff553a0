using PSReplica.Engine.Native;

namespace PSReplica.Engine.Execution;

/// <summary>-Sparse (rsync -S): a new file is written with holes where its content is zeros, and a sparse source is read
/// by its data extents only. Every writer of a new file (a local copy, the receiver of a whole file or of a delta, on
/// either side of the wire) writes through <see cref="Write"/> and ends with <see cref="End"/>; the file must hold nothing
/// where it is written (a new or truncated file), so what is skipped reads back as zeros.</summary>
internal static class SparseFiles
{
    /// <summary>The unit of a hole: a block of zeros this long, aligned to it in the file, is not written. File systems
    /// allocate in blocks of 4 KiB (or a multiple); a shorter run of zeros would be allocated with its neighbours anyway.</summary>
    internal const int BlockBytes = 4096;

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>, leaving out every aligned block of zeros (and a
    /// partial block of zeros at either end). Returns the offset after the data.</summary>
    public static long Write(SafeFileHandle file, ReadOnlySpan<byte> data, long offset)
    {
        int run = -1;
        int at = 0;
        while (at < data.Length)
        {
            int end = (int)Math.Min(data.Length, at + (BlockBytes - ((offset + at) % BlockBytes)));
            if (data[at..end].IndexOfAnyExcept((byte)0) < 0)
            {
                if (run >= 0)
                {
                    RandomAccess.Write(file, data[run..at], offset + run);
                    run = -1;
                }
            }
            else if (run < 0)
            {
                run = at;
            }

            at = end;
        }

        if (run >= 0)
        {
            RandomAccess.Write(file, data[run..], offset + run);
        }

        return offset + data.Length;
    }

    /// <summary>Gives the file its length: zeros left out at its end become a hole there.</summary>
    public static void End(SafeFileHandle file, long length) => RandomAccess.SetLength(file, length);

    /// <summary>The next stretch of data at or after <paramref name="offset"/> in <paramref name="file"/> of
    /// <paramref name="length"/> bytes, from SEEK_DATA and SEEK_HOLE: null when only a hole follows. Where the file system
    /// or the backend cannot tell (EINVAL, ENOSYS, EOPNOTSUPP), the rest of the file is one stretch of data.</summary>
    public static (long Start, long End)? NextData(SafeFileHandle file, long offset, long length)
    {
        if (offset >= length)
        {
            return null;
        }

        long start = Posix.SeekData(file, offset);
        if (start == -Posix.ENXIO)
        {
            return null;
        }

        if (start < 0)
        {
            return (offset, length);
        }

        if (start >= length)
        {
            return null;
        }

        long end = Posix.SeekHole(file, start);
        return (start, end < 0 ? length : Math.Min(end, length));
    }
}
