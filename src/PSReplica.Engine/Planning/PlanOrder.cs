namespace PSReplica.Engine.Planning;

/// <summary>The order in which the planner walks a tree: depth first, each directory's entries in ascending ordinal order
/// of their names (the order its merge of the two sides relies on), a directory before what it holds. A reader of a
/// listing that the planner asks for one directory at a time can tell from it which directories the planner has passed
/// and will never ask for.</summary>
internal static class PlanOrder
{
    /// <summary>Negative when the planner reaches the '/'-separated relative path <paramref name="a"/> before
    /// <paramref name="b"/> ("" is the root, before everything), zero when they are the same, positive otherwise. Names are
    /// compared whole, component by component, so that "a/b" (inside a) comes before "a-c".</summary>
    public static int Compare(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int length = Math.Min(a.Length, b.Length);
        for (int i = 0; i < length; i++)
        {
            char x = a[i];
            char y = b[i];
            if (x == y)
            {
                continue;
            }

            // One component ends here and the other goes on: the shorter name comes first.
            if (x == '/')
            {
                return -1;
            }

            if (y == '/')
            {
                return 1;
            }

            return x < y ? -1 : 1;
        }

        // One is a prefix of the other: an ancestor, or a name that the other extends; either comes first.
        return a.Length.CompareTo(b.Length);
    }

    /// <summary>Whether <paramref name="ancestor"/> is <paramref name="path"/> or a directory above it ("" is above all).</summary>
    public static bool Contains(string ancestor, string path) =>
        ancestor.Length == 0 || path == ancestor
        || (path.Length > ancestor.Length && path[ancestor.Length] == '/' && path.StartsWith(ancestor, StringComparison.Ordinal));
}
