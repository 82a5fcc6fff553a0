using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Native;

/// <summary>The names of one open directory as the file system holds them (bytes, NUL-terminated, back to back), each with
/// its inode number, read with getdents64 (<see cref="LinuxCalls.ReadDirectory"/>) into buffers that a thread
/// keeps from one directory to the next. A scan lists every directory of two trees: reading the names straight from the
/// kernel's records, and stating each by those bytes relative to the directory's descriptor, saves a DIR stream, a copy
/// and a re-encoding of every name (issue 18: a no-change run of 100,000 files on a cold cache is bound by the CPU the
/// scan takes as much as by the disk).</summary>
[SupportedOSPlatform("linux")]
internal sealed class DirectoryNames
{
    /// <summary>Buffers that grew past this for one huge directory are not kept for the next.</summary>
    private const int KeptBytes = 1 << 20;

    [ThreadStatic]
    private static DirectoryNames? t_kept;

    private byte[] _names = new byte[16 * 1024];
    private Entry[] _entries = new Entry[256];
    private int _used;

    private DirectoryNames()
    {
    }

    /// <summary>The names read by the last <see cref="Read"/>.</summary>
    public int Count { get; private set; }

    /// <summary>This thread's buffers, empty; give them back with <see cref="Return"/> (a listing that throws simply drops
    /// them).</summary>
    public static DirectoryNames Rent()
    {
        DirectoryNames names = t_kept ?? new DirectoryNames();
        t_kept = null;
        names.Clear();
        return names;
    }

    /// <summary>Keeps the buffers for this thread's next listing, unless one huge directory grew them.</summary>
    public static void Return(DirectoryNames names)
    {
        if (names._names.Length <= KeptBytes && names._entries.Length <= KeptBytes / 16)
        {
            t_kept = names;
        }
    }

    /// <summary>Reads every name of the directory <paramref name="directory"/> holds open (its own position: the caller
    /// opened it for this listing), without "." and ".."; false with the errno when it cannot be read.</summary>
    public bool Read(SafeFileHandle directory, out int errno)
    {
        Clear();
        return LinuxCalls.ReadDirectory(directory, this, out errno);
    }

    /// <summary>The inode number the directory's record gives (for the order of the stats: see
    /// <see cref="SortByInode"/>).</summary>
    public ulong Inode(int index) => _entries[index].Inode;

    /// <summary>The name at <paramref name="index"/> as the engine holds names (<see cref="NameCodec"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string Name(int index)
    {
        ref Entry entry = ref _entries[index];
        return NameCodec.Decode(_names.AsSpan(entry.Offset, entry.Length));
    }

    /// <summary>statx of the name at <paramref name="index"/> relative to <paramref name="directory"/>, by its bytes, without
    /// following a final link: 0 or the errno.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe int StatAt(SafeFileHandle directory, int index, out StatInfo info)
    {
        fixed (byte* names = _names)
        {
            return LinuxCalls.StatAtRaw(directory, names + _entries[index].Offset, out info);
        }
    }

    /// <summary>Orders the names by inode number. Stating a directory's names in that order reads the inode table forward
    /// (a hashed directory gives its names in hash order, which is no order on the disk); the planner's name order is
    /// restored afterwards by the caller.</summary>
    public void SortByInode() => Array.Sort(_entries, 0, Count, EntryByInode.Instance);

    /// <summary>Appends one record's name (called by <see cref="LinuxCalls.ReadDirectory"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Add(ReadOnlySpan<byte> name, ulong inode)
    {
        if (_used + name.Length + 1 > _names.Length)
        {
            Array.Resize(ref _names, Math.Max(_names.Length * 2, _used + name.Length + 1));
        }

        if (Count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }

        name.CopyTo(_names.AsSpan(_used));
        _names[_used + name.Length] = 0;
        _entries[Count++] = new Entry(_used, name.Length, inode);
        _used += name.Length + 1;
    }

    private void Clear()
    {
        Count = 0;
        _used = 0;
    }

    [StructLayout(LayoutKind.Auto)]
    private readonly record struct Entry(int Offset, int Length, ulong Inode);

    private sealed class EntryByInode : IComparer<Entry>
    {
        public static EntryByInode Instance { get; } = new();

        public int Compare(Entry x, Entry y) => x.Inode.CompareTo(y.Inode);
    }
}
