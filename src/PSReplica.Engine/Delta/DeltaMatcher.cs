using System;
using System.Buffers;
using System.IO;
using System.IO.Hashing;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace PSReplica.Engine.Delta;

/// <summary>The sender's search: rolls the weak checksum over the new file one byte at a time, looks each value up in
/// a hash table of the basis blocks, confirms a hit with the strong checksum, and emits literal data and runs of
/// block copies. Memory is the signature plus one read buffer, whatever the file's size.
/// Follows rsync match.c:hash_search (including its preference for the block after the last match).</summary>
internal sealed class DeltaMatcher
{
    private const int BufferBytes = 4 << 20;
    private const int LiteralChunk = 256 << 10;

    private readonly Signature _signature;
    private readonly int[] _heads;
    private readonly int[] _next;
    private readonly int _shift;

    // One bit per hash value, ~32 bits per block: small enough to stay in cache while the weak sum rolls over
    // changed data, where nearly every probe misses.
    private readonly ulong[] _filter;
    private readonly int _filterShift;

    public DeltaMatcher(Signature signature)
    {
        _signature = signature;
        // About 1 in 16 slots used: a roll that finds its slot empty (the common case on changed data) costs one load.
        int bits = Math.Max(12, BitOperations.Log2((uint)Math.Max(1, signature.Count)) + 4);
        bits = Math.Min(bits, 30);
        _shift = 32 - bits;
        _heads = new int[1 << bits];
        _heads.AsSpan().Fill(-1);
        _next = new int[signature.Count];

        int filterBits = Math.Clamp(BitOperations.Log2((uint)Math.Max(1, signature.Count)) + 8, 12, 26);
        _filterShift = 32 - filterBits;
        _filter = new ulong[(1 << filterBits) / 64];

        // Insert in reverse so that each chain lists lower block numbers first.
        for (int i = signature.Count - 1; i >= 0; i--)
        {
            uint weak = signature.Weak[i];
            int slot = Slot(weak);
            _next[i] = _heads[slot];
            _heads[slot] = i;
            uint bit = (weak * 2654435761u) >> _filterShift;
            _filter[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }

    /// <summary>Streams <paramref name="target"/> through the search; returns the totals and the target's XXH3-128.</summary>
    public DeltaResult Run(Stream target, IDeltaSink sink, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(sink);
        var state = new State(this, target, sink);
        try
        {
            state.Search(cancellation);
        }
        finally
        {
            state.Dispose();
        }

        return state.Result();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(uint weak) => (int)((weak * 2654435761u) >> _shift);

    /// <summary>The block that the window matches, or -1.</summary>
    private int FindMatch(uint weak, ReadOnlySpan<byte> window, int wanted)
    {
        Signature signature = _signature;
        Span<byte> strong = stackalloc byte[StrongHash.FullLength];
        strong = strong[..signature.StrongLength];
        bool computed = false;

        // Prefer the block that follows the last match: it keeps copies in runs (rsync's want_i).
        if ((uint)wanted < (uint)signature.Count && signature.Weak[wanted] == weak && signature.LengthOf(wanted) == window.Length)
        {
            StrongHash.Compute(window, strong);
            computed = true;
            if (strong.SequenceEqual(signature.StrongOf(wanted)))
            {
                return wanted;
            }
        }

        for (int i = _heads[Slot(weak)]; i >= 0; i = _next[i])
        {
            if (signature.Weak[i] != weak || signature.LengthOf(i) != window.Length)
            {
                continue;
            }

            if (!computed)
            {
                StrongHash.Compute(window, strong);
                computed = true;
            }

            if (strong.SequenceEqual(signature.StrongOf(i)))
            {
                return i;
            }
        }

        return -1;
    }

    private sealed class State : IDisposable
    {
        private readonly DeltaMatcher _matcher;
        private readonly Stream _target;
        private readonly IDeltaSink _sink;
        private readonly XxHash128 _wholeFile = new();
        private readonly byte[] _buffer;
        private int _end;
        private bool _eof;
        private int _position;
        private int _literalStart;
        private int _runStart = -1;
        private int _runCount;
        private long _literalBytes;
        private long _matchedBytes;
        private long _length;

        public State(DeltaMatcher matcher, Stream target, IDeltaSink sink)
        {
            _matcher = matcher;
            _target = target;
            _sink = sink;
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(BufferBytes, matcher._signature.BlockLength * 4));
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);

        public DeltaResult Result()
        {
            var hash = new byte[StrongHash.FullLength];
            _wholeFile.GetCurrentHash(hash);
            return new DeltaResult(_length, _literalBytes, _matchedBytes, hash);
        }

        public void Search(CancellationToken cancellation)
        {
            Signature signature = _matcher._signature;
            int blockLength = signature.BlockLength;
            bool searchable = signature.Count > 0;
            int wanted = 0;
            Refill();
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                if (!_eof && _end - _position <= blockLength)
                {
                    Refill();
                }

                int available = _end - _position;
                if (available == 0)
                {
                    break;
                }

                if (!searchable)
                {
                    _position = _end;
                    FlushLiteral();
                    continue;
                }

                int window = Math.Min(blockLength, available);
                var sum = default(RollingChecksum);
                sum.Reset(_buffer.AsSpan(_position, window));
                byte[] data = _buffer;
                int[] heads = _matcher._heads;
                int[] next = _matcher._next;
                uint[] weakSums = signature.Weak;
                int shift = _matcher._shift;
                ulong[] filter = _matcher._filter;
                int filterShift = _matcher._filterShift;
                int position = _position;
                int end = _end;
                int literalLimit = _literalStart + LiteralChunk;
                while (true)
                {
                    // Most positions of changed data hit an empty filter bit: roll through them in a tight loop.
                    int skimLimit = Math.Min(end - window, literalLimit);
                    if (position < skimLimit)
                    {
                        uint s1 = sum.S1;
                        uint s2 = sum.S2;
                        position = FilterSkim.Skim(data, filter, filterShift, position, skimLimit, window, ref s1, ref s2);
                        sum = new RollingChecksum(s1, s2);
                    }

                    uint weak = sum.Value;
                    uint mixed = weak * 2654435761u;
                    uint bit = mixed >> filterShift;
                    int candidate = -1;
                    if ((filter[bit >> 6] & (1UL << (int)(bit & 63))) != 0)
                    {
                        candidate = heads[(int)(mixed >> shift)];
                        while (candidate >= 0 && weakSums[candidate] != weak)
                        {
                            candidate = next[candidate];
                        }
                    }

                    if (candidate >= 0)
                    {
                        int block = _matcher.FindMatch(weak, data.AsSpan(position, window), wanted);
                        if (block >= 0)
                        {
                            _position = position;
                            FlushLiteral();
                            AddCopy(block);
                            _position = position + window;
                            _literalStart = _position;
                            _matchedBytes += window;
                            wanted = block + 1;
                            break;
                        }
                    }

                    int incoming = position + window;
                    if (incoming < end)
                    {
                        // A full window with a byte after it: roll.
                        sum.Roll(data[position], data[incoming], window);
                        position++;
                    }
                    else if (!_eof)
                    {
                        _position = position;
                        break; // refill, then recompute the window from scratch
                    }
                    else
                    {
                        // At the end of the file the window shrinks; only the short last block can match it.
                        sum.Shrink(data[position], window);
                        position++;
                        window--;
                        if (window == 0)
                        {
                            _position = position;
                            break;
                        }
                    }

                    if (position >= literalLimit)
                    {
                        _position = position;
                        FlushLiteral();
                        literalLimit = _literalStart + LiteralChunk;
                    }
                }
            }

            FlushLiteral();
            FlushRun();
        }

        private void Refill()
        {
            FlushLiteral();
            int keep = _end - _position;
            if (_position > 0 && keep > 0)
            {
                Buffer.BlockCopy(_buffer, _position, _buffer, 0, keep);
            }

            _position = 0;
            _literalStart = 0;
            _end = keep;
            int capacity = _buffer.Length;
            while (_end < capacity && !_eof)
            {
                int read = _target.Read(_buffer, _end, capacity - _end);
                if (read == 0)
                {
                    _eof = true;
                    break;
                }

                _wholeFile.Append(_buffer.AsSpan(_end, read));
                _length += read;
                _end += read;
            }
        }

        private void AddCopy(int block)
        {
            if (_runCount > 0 && _runStart + _runCount == block)
            {
                _runCount++;
                return;
            }

            FlushRun();
            _runStart = block;
            _runCount = 1;
        }

        private void FlushRun()
        {
            if (_runCount > 0)
            {
                _sink.Copy(_runStart, _runCount);
                _runCount = 0;
                _runStart = -1;
            }
        }

        private void FlushLiteral()
        {
            int count = _position - _literalStart;
            if (count > 0)
            {
                FlushRun();
                _sink.Literal(_buffer.AsSpan(_literalStart, count));
                _literalBytes += count;
            }

            _literalStart = _position;
        }
    }
}

/// <summary>What a delta search found: the target's length, literal and matched bytes, and its whole-file XXH3-128.</summary>
internal sealed record DeltaResult(long Length, long LiteralBytes, long MatchedBytes, byte[] WholeFileHash);
