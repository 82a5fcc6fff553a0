namespace PSReplica.Engine.Receiving;

/// <summary>An item's directory, opened by a walk that followed no link, and the item's name in it.</summary>
internal readonly struct ParentDirectory : IDisposable
{
    private readonly bool _owned;
    private readonly bool _counted;

    public ParentDirectory(SafeFileHandle handle, string name, bool owned)
    {
        Handle = handle;
        Name = name;
        _owned = owned;
    }

    private ParentDirectory(SafeFileHandle handle, string name, bool owned, bool counted)
        : this(handle, name, owned) => _counted = counted;

    public SafeFileHandle Handle { get; }

    public string Name { get; }

    /// <summary>A directory a tree keeps open, lent to one caller: the reference taken here keeps the descriptor (and so
    /// its number) alive until this borrower is done, even if the tree closes its own meanwhile. Take it under the lock
    /// that guards the tree's closing.</summary>
    public static ParentDirectory Lent(SafeFileHandle handle, string name)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        return new ParentDirectory(handle, name, owned: false, counted: added);
    }

    public void Dispose()
    {
        if (_owned)
        {
            Handle.Dispose();
        }
        else if (_counted)
        {
            Handle.DangerousRelease();
        }
    }
}
