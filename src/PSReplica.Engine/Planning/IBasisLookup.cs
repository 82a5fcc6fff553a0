using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Planning;

/// <summary>Finds files in basis directories that the planner cannot stat by path (a remote receiver's).</summary>
internal interface IBasisLookup
{
    /// <summary>The item at <paramref name="relative"/> in basis directory <paramref name="index"/>, or null.</summary>
    FileEntry? Find(int index, string relative);
}
