using System.Buffers;
using System.Text;
using PSReplica.Engine.Native;
using PSReplica.Engine.Planning;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Metadata;

/// <summary>An item's extended attributes within a <see cref="XattrScope"/>, in ordinal name order: the POSIX ACLs
/// (their binary xattr form, numeric ids) and the other namespaces alike.</summary>
internal sealed class ExtendedAttributeSet : IEquatable<ExtendedAttributeSet>
{
    /// <summary>The most attributes one item may carry on the wire.</summary>
    public const int MaxCount = 1024;

    /// <summary>The most name and value bytes one item may carry (Linux allows 64 KiB a value): small enough that an
    /// item's set fits in one frame with its listing entry or its request, and in a WriteBatch header.</summary>
    public const int MaxTotalBytes = 256 << 10;

    /// <summary>The longest encoding of a set within the bounds (<see cref="Write"/>).</summary>
    public const int MaxEncodedBytes = MaxTotalBytes + (MaxCount * 8) + 8;

    private static readonly UTF8Encoding s_strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly (string Name, byte[] Value)[] _entries;

    public ExtendedAttributeSet(IEnumerable<(string Name, byte[] Value)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        _entries = [.. entries];
        Array.Sort(_entries, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
    }

    public static ExtendedAttributeSet Empty { get; } = new([]);

    public IReadOnlyList<(string Name, byte[] Value)> Entries => _entries;

    public int Count => _entries.Length;

    /// <summary>The attributes of <paramref name="scope"/> only (this set when it holds no others): a listing may carry a
    /// wider scope than a run goes on with (<see cref="XattrSupport.Narrow"/>).</summary>
    public ExtendedAttributeSet Within(XattrScope scope) =>
        Array.TrueForAll(_entries, e => scope.Includes(e.Name)) ? this : new ExtendedAttributeSet(Array.FindAll(_entries, e => scope.Includes(e.Name)));

    /// <summary>What differs from <paramref name="other"/>: the ACLs, the other attributes, both or neither.</summary>
    public AttributeChanges Compare(ExtendedAttributeSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        AttributeChanges changes = AttributeChanges.None;
        if (!Same(other, acls: true))
        {
            changes |= AttributeChanges.Acls;
        }

        if (!Same(other, acls: false))
        {
            changes |= AttributeChanges.ExtendedAttributes;
        }

        return changes;
    }

    public bool Equals(ExtendedAttributeSet? other) => other is not null && Compare(other) == AttributeChanges.None;

    public override bool Equals(object? obj) => Equals(obj as ExtendedAttributeSet);

    public override int GetHashCode() => _entries.Length;

    private bool Same(ExtendedAttributeSet other, bool acls)
    {
        int i = 0, j = 0;
        while (true)
        {
            while (i < _entries.Length && XattrScopes.IsAcl(_entries[i].Name) != acls)
            {
                i++;
            }

            while (j < other._entries.Length && XattrScopes.IsAcl(other._entries[j].Name) != acls)
            {
                j++;
            }

            if (i == _entries.Length || j == other._entries.Length)
            {
                return i == _entries.Length && j == other._entries.Length;
            }

            if (_entries[i].Name != other._entries[j].Name || !_entries[i].Value.AsSpan().SequenceEqual(other._entries[j].Value))
            {
                return false;
            }

            i++;
            j++;
        }
    }

    /// <summary>Reads the attributes of the scope; null with the errno when they cannot be read, or E2BIG when they exceed
    /// <see cref="MaxCount"/> or <see cref="MaxTotalBytes"/> (the item's attributes are then left alone). A file system
    /// without extended attributes has none. Names that are not UTF-8 are left out.</summary>
    public static ExtendedAttributeSet? Read(Posix.XattrTarget target, XattrScope scope, out int errno)
    {
        errno = 0;
        if (scope == XattrScope.None)
        {
            return Empty;
        }

        // Pooled: a run that asks for attributes reads them for every file and directory.
        byte[] names = ArrayPool<byte>.Shared.Rent(Posix.XattrListMax);
        byte[] value = ArrayPool<byte>.Shared.Rent(Posix.XattrSizeMax);
        try
        {
            return Read(target, scope, names.AsSpan(0, Posix.XattrListMax), value.AsSpan(0, Posix.XattrSizeMax), out errno);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(names);
            ArrayPool<byte>.Shared.Return(value);
        }
    }

    private static ExtendedAttributeSet? Read(Posix.XattrTarget target, XattrScope scope, Span<byte> names, Span<byte> value, out int errno)
    {
        errno = 0;
        int length = target.List(names);
        if (length < 0)
        {
            errno = -length;
            return errno == Posix.EOPNOTSUPP ? Empty : null;
        }

        List<(string, byte[])>? entries = null;
        long total = 0;
        int start = 0;
        for (int k = 0; k < length; k++)
        {
            if (names[k] != 0)
            {
                continue;
            }

            string name;
            try
            {
                name = s_strict.GetString(names[start..k]);
            }
            catch (DecoderFallbackException)
            {
                start = k + 1;
                continue;
            }

            start = k + 1;
            if (!scope.Includes(name))
            {
                continue;
            }

            int n = target.Get(name, value);
            if (n == -Posix.ENODATA)
            {
                continue;
            }

            if (n < 0)
            {
                errno = -n;
                return null;
            }

            (entries ??= []).Add((name, value[..n].ToArray()));
            total += name.Length + n;
            if (entries.Count > MaxCount || total > MaxTotalBytes)
            {
                errno = Posix.E2BIG;
                return null;
            }
        }

        return entries is null ? Empty : new ExtendedAttributeSet(entries);
    }

    /// <summary>Makes the target's attributes of <paramref name="scope"/> these: removes the others of the scope, then
    /// sets each. 0, or the first errno (EOPNOTSUPP: the file system holds none of them).</summary>
    public int ApplyTo(Posix.XattrTarget target, XattrScope scope)
    {
        ExtendedAttributeSet? current = Read(target, scope, out int errno);
        if (current is null)
        {
            return errno;
        }

        foreach ((string name, _) in current._entries)
        {
            if (Array.FindIndex(_entries, e => e.Name == name) < 0)
            {
                errno = target.Remove(name);
                if (errno is not (0 or Posix.ENODATA))
                {
                    return errno;
                }
            }
        }

        foreach ((string name, byte[] value) in _entries)
        {
            if (Array.Find(current._entries, e => e.Name == name) is { Value: { } existing } && existing.AsSpan().SequenceEqual(value))
            {
                continue;
            }

            errno = target.Set(name, value);
            if (errno != 0)
            {
                return errno;
            }
        }

        return 0;
    }

    public void Write(WireWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.UInt((uint)_entries.Length);
        foreach ((string name, byte[] value) in _entries)
        {
            writer.String(name).UInt((uint)value.Length).Bytes(value);
        }
    }

    /// <summary>Reads and checks a set: at most <see cref="MaxCount"/> attributes, names of <paramref name="scope"/> in
    /// strictly ascending order, each value at most 64 KiB and names and values at most <see cref="MaxTotalBytes"/>, every length
    /// checked against the message before anything is allocated.</summary>
    public static ExtendedAttributeSet Read(ref WireReader reader, XattrScope scope)
    {
        int count = reader.Count(MaxCount, 3);
        if (count == 0)
        {
            return Empty;
        }

        var entries = new (string, byte[])[count];
        long total = 0;
        string? previous = null;
        for (int i = 0; i < count; i++)
        {
            string name = reader.String(255);
            if (!scope.Includes(name) || name.Contains('\0', StringComparison.Ordinal))
            {
                throw ProtocolFault.Violation($"the extended attribute '{ProtocolFault.Printable(name)}', which the run does not copy");
            }

            if (previous is not null && string.CompareOrdinal(previous, name) >= 0)
            {
                throw ProtocolFault.Violation("extended attributes out of order");
            }

            int length = reader.Int32(Posix.XattrSizeMax);
            total += name.Length + length;
            if (total > MaxTotalBytes)
            {
                throw ProtocolFault.Violation("extended attributes larger than allowed");
            }

            entries[i] = (name, reader.Bytes(length).ToArray());
            previous = name;
        }

        return new ExtendedAttributeSet(entries);
    }
}
