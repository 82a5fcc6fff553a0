namespace PSReplica.Engine.Execution;

/// <summary>-Inplace: the ranges of a file written with bytes other than its old content at that place, ascending and
/// disjoint (an in-place patch only moves forward). A block of the old file that overlaps one of them, or that lies
/// across the write position, can no longer be copied from the file.</summary>
internal sealed class OverwrittenRanges
{
    private readonly List<(long Start, long End)> _ranges = [];

    public void Add(long start, long end)
    {
        if (_ranges.Count > 0 && _ranges[^1].End == start)
        {
            _ranges[^1] = (_ranges[^1].Start, end);
        }
        else
        {
            _ranges.Add((start, end));
        }
    }

    /// <summary>Whether the old bytes at [<paramref name="offset"/>, +<paramref name="length"/>) are gone, the patch
    /// having written up to <paramref name="written"/>: they are when the block starts before the write position and
    /// reaches past it, or overlaps a range written with other bytes.</summary>
    public bool Clobbers(long offset, long length, long written) =>
        offset < written && (offset + length > written || Overlaps(offset, offset + length));

    private bool Overlaps(long start, long end)
    {
        // The last range that begins before `end` is the only one that can reach into [start, end).
        int low = 0;
        int high = _ranges.Count - 1;
        int found = -1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            if (_ranges[middle].Start < end)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return found >= 0 && _ranges[found].End > start;
    }
}
