using System;
using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Remote;

/// <summary>An item's directory, opened by a walk that followed no link, and the item's name in it.</summary>
internal readonly struct ParentDirectory : IDisposable
{
    private readonly bool _owned;

    public ParentDirectory(SafeFileHandle handle, string name, bool owned)
    {
        Handle = handle;
        Name = name;
        _owned = owned;
    }

    public SafeFileHandle Handle { get; }

    public string Name { get; }

    public void Dispose()
    {
        if (_owned)
        {
            Handle.Dispose();
        }
    }
}
