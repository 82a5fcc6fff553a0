using System.Buffers.Binary;

namespace PSReplica.Fuzz.Tests.Harness;

/// <summary>Coverage-agnostic mutations of a seed, all drawn from one <see cref="Random"/> so that a seed number replays a
/// run exactly: bit flips, random and boundary bytes, boundary numbers written as little-endian integers and as LEB128
/// (the wire's lengths and counts), inserted, deleted, repeated and swapped ranges, splices with another seed, and the
/// target's own tokens (keywords, tags, record bytes) where it has some.</summary>
internal sealed class Mutator
{
    private static readonly byte[] s_interestingBytes = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff, (byte)'/', (byte)'.', 0x0a, 0x20];

    private static readonly ulong[] s_interestingNumbers =
    [
        0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 255, 256, 4095, 4096, 0x7fff, 0x8000, 0xffff, 0x10000, (1 << 20) - 1, 1 << 20, (1 << 20) + 1,
        (1 << 23) + 1, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, (ulong)uint.MaxValue + 1, long.MaxValue, (ulong)long.MaxValue + 1,
        ulong.MaxValue, 999_999_999, 1_000_000_000,
    ];

    private readonly Random _random;
    private readonly IReadOnlyList<byte[]> _seeds;
    private readonly IReadOnlyList<byte[]> _tokens;
    private readonly int _maxLength;

    public Mutator(Random random, IReadOnlyList<byte[]> seeds, IReadOnlyList<byte[]> tokens, int maxLength)
    {
        _random = random;
        _seeds = seeds;
        _tokens = tokens;
        _maxLength = maxLength;
    }

    /// <summary>A seed with one to eight mutations stacked on it.</summary>
    public byte[] Next()
    {
        var data = new List<byte>(_seeds[_random.Next(_seeds.Count)]);
        int rounds = 1 << _random.Next(4);
        for (int i = 0; i < rounds; i++)
        {
            Mutate(data);
            if (data.Count > _maxLength)
            {
                data.RemoveRange(_maxLength, data.Count - _maxLength);
            }
        }

        return [.. data];
    }

    private void Mutate(List<byte> data)
    {
        switch (_random.Next(data.Count == 0 ? 3 : 14))
        {
            case 0:
                Insert(data, RandomBytes(1 + _random.Next(8)));
                break;
            case 1:
                Insert(data, Token());
                break;
            case 2:
                Insert(data, Leb128(Number()));
                break;
            case 3:
                data[Position(data)] ^= (byte)(1 << _random.Next(8));
                break;
            case 4:
                data[Position(data)] = (byte)_random.Next(256);
                break;
            case 5:
                data[Position(data)] = s_interestingBytes[_random.Next(s_interestingBytes.Length)];
                break;
            case 6:
                Overwrite(data, Fixed(Number(), _random.Next(2) == 0 ? 4 : 8));
                break;
            case 7:
                // A length or count replaced: the byte at the position and any continuation bytes after it give way to
                // a boundary number in LEB128.
                int at = Position(data);
                int end = at;
                while (end < data.Count && (data[end] & 0x80) != 0 && end - at < 9)
                {
                    end++;
                }

                data.RemoveRange(at, Math.Min(end + 1, data.Count) - at);
                data.InsertRange(at, Leb128(Number()));
                break;
            case 8:
                Delete(data);
                break;
            case 9:
                Repeat(data);
                break;
            case 10:
                Splice(data);
                break;
            case 11:
                int cut = Position(data);
                data.RemoveRange(cut, data.Count - cut);
                break;
            case 12:
                Overwrite(data, Token());
                break;
            default:
                SwapRanges(data);
                break;
        }
    }

    private int Position(List<byte> data) => _random.Next(data.Count);

    private ulong Number()
    {
        ulong value = s_interestingNumbers[_random.Next(s_interestingNumbers.Length)];
        return _random.Next(4) switch
        {
            0 => value - 1,
            1 => value + 1,
            _ => value,
        };
    }

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }

    private byte[] Token() => _tokens.Count == 0 || _random.Next(4) == 0 ? RandomBytes(1) : _tokens[_random.Next(_tokens.Count)];

    private void Insert(List<byte> data, byte[] bytes) => data.InsertRange(_random.Next(data.Count + 1), bytes);

    private void Overwrite(List<byte> data, byte[] bytes)
    {
        int at = _random.Next(data.Count + 1);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (at + i < data.Count)
            {
                data[at + i] = bytes[i];
            }
            else
            {
                data.Add(bytes[i]);
            }
        }
    }

    private void Delete(List<byte> data)
    {
        int at = Position(data);
        data.RemoveRange(at, 1 + _random.Next(Math.Min(16, data.Count - at)));
    }

    private void Repeat(List<byte> data)
    {
        int at = Position(data);
        int length = 1 + _random.Next(Math.Min(64, data.Count - at));
        byte[] range = data.GetRange(at, length).ToArray();
        int times = 1 + _random.Next(_random.Next(2) == 0 ? 4 : 256);
        for (int i = 0; i < times && data.Count + range.Length <= _maxLength; i++)
        {
            data.InsertRange(at, range);
        }
    }

    private void Splice(List<byte> data)
    {
        byte[] other = _seeds[_random.Next(_seeds.Count)];
        int keep = _random.Next(data.Count + 1);
        int from = _random.Next(other.Length + 1);
        data.RemoveRange(keep, data.Count - keep);
        data.AddRange(other.AsSpan(from).ToArray());
    }

    private void SwapRanges(List<byte> data)
    {
        if (data.Count < 2)
        {
            return;
        }

        int length = 1 + _random.Next(Math.Min(16, data.Count / 2));
        int first = _random.Next(data.Count - length + 1);
        int second = _random.Next(data.Count - length + 1);
        byte[] a = data.GetRange(first, length).ToArray();
        byte[] b = data.GetRange(second, length).ToArray();
        for (int i = 0; i < length; i++)
        {
            data[second + i] = a[i];
        }

        for (int i = 0; i < length; i++)
        {
            data[first + i] = b[i];
        }
    }

    private static byte[] Fixed(ulong value, int width)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes[..width];
    }

    /// <summary>Unsigned LEB128, written here rather than with the engine's writer.</summary>
    public static byte[] Leb128(ulong value)
    {
        var bytes = new List<byte>(10);
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }
}
