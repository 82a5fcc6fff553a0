namespace PSReplica.Engine.Tests.Metadata;

/// <summary>Windows' file attributes kept in memory by full path, for the portable backend on Linux
/// (<see cref="FileAttributeStore.Use"/>). It behaves as Windows does where the tests depend on it: a new file has
/// Archive set, a directory nothing; attributes move with a renamed item (and what is under a renamed directory); and a
/// ReadOnly item is not replaced, removed or opened for writing (EACCES). The real Windows calls are not run here.</summary>
internal sealed class FakeAttributeStore : IFileAttributeStore
{
    private readonly object _gate = new();
    private readonly Dictionary<string, FileAttributes> _attributes = new(StringComparer.Ordinal);

    /// <summary>How many times an attribute was written through the store (by the engine or by <see cref="Set"/>).</summary>
    public int Writes { get; private set; }

    /// <summary>The paths the engine wrote attributes of, in order.</summary>
    public List<string> Written { get; } = [];

    /// <summary>What the engine reads for <paramref name="path"/>.</summary>
    public FileAttributes Get(string path)
    {
        string key = Path.GetFullPath(path);
        lock (_gate)
        {
            return _attributes.TryGetValue(key, out FileAttributes attributes) ? attributes
                : Directory.Exists(key) ? 0 : FileAttributes.Archive;
        }
    }

    /// <summary>Gives the item at <paramref name="path"/> these attributes, as a user would (not counted as the engine's).</summary>
    public void Set(string path, FileAttributes attributes)
    {
        lock (_gate)
        {
            _attributes[Path.GetFullPath(path)] = attributes & FileAttributeStore.Kept;
        }
    }

    public FileAttributes Read(string path, FileAttributes reported)
    {
        string key = Path.GetFullPath(path);
        lock (_gate)
        {
            return _attributes.TryGetValue(key, out FileAttributes attributes) ? attributes
                : (reported & FileAttributes.Directory) != 0 ? 0 : FileAttributes.Archive;
        }
    }

    public int Write(string path, FileAttributes attributes)
    {
        string key = Path.GetFullPath(path);
        if (!File.Exists(key) && !Directory.Exists(key))
        {
            return Posix.ENOENT;
        }

        lock (_gate)
        {
            _attributes[key] = attributes & FileAttributeStore.Kept;
            Writes++;
            Written.Add(key);
        }

        return 0;
    }

    public int MayChange(string path)
    {
        string key = Path.GetFullPath(path);
        lock (_gate)
        {
            return _attributes.TryGetValue(key, out FileAttributes attributes) && (attributes & FileAttributes.ReadOnly) != 0 ? Posix.EACCES : 0;
        }
    }

    public void Moved(string oldPath, string newPath)
    {
        string from = Path.GetFullPath(oldPath);
        string to = Path.GetFullPath(newPath);
        lock (_gate)
        {
            _attributes.Remove(to);
            foreach (string key in _attributes.Keys.ToList())
            {
                if (key == from || key.StartsWith(from + "/", StringComparison.Ordinal))
                {
                    FileAttributes attributes = _attributes[key];
                    _attributes.Remove(key);
                    _attributes[to + key[from.Length..]] = attributes;
                }
            }
        }
    }

    public void Removed(string path)
    {
        lock (_gate)
        {
            _attributes.Remove(Path.GetFullPath(path));
        }
    }
}
