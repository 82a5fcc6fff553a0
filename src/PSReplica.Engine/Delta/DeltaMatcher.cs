using System.Buffers;
using System.IO.Hashing;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PSReplica.Engine.Delta;

/// <summary>The sender's search: rolls the weak checksum over the new file one byte at a time, looks each value up in
/// a hash table of the basis blocks, confirms a hit with the strong checksum, and emits literal data and runs of
/// block copies. Memory is the signature plus one read buffer, whatever the file's size.
/// Follows rsync match.c:hash_search (including its preference for the block after the last match).</summary>
internal sealed class DeltaMatcher
{
    private const int BufferBytes = 4 << 20;
    private const int LiteralChunk = 256 << 10;

    /// <summary>The most bytes one copy op covers: a longer run of adjacent blocks is sent as several ops.</summary>
    internal const int RunBytes = 8 << 20;

    // The piece in which stretches taken as literal before the signature was complete are searched again.
    private const int ConfirmPiece = 1 << 20;

    private readonly Signature _signature;
    private readonly int[] _heads;
    private readonly int[] _next;
    private readonly int _shift;

    // One bit per hash value, ~32 bits per block: small enough to stay in cache while the weak sum rolls over
    // changed data, where nearly every probe misses.
    private readonly ulong[] _filter;
    private readonly int _filterShift;

    // The last block of each chain, while the tables grow (ForGrowingSignature).
    private readonly int[]? _tails;

    public DeltaMatcher(Signature signature)
        : this(signature, filled: true)
    {
    }

    private DeltaMatcher(Signature signature, bool filled)
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

        if (!filled)
        {
            _tails = new int[_heads.Length];
            _tails.AsSpan().Fill(-1);
            return;
        }

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

    public Signature Signature => _signature;

    /// <summary>A matcher whose tables start empty and receive blocks in order through <see cref="Append"/> while the
    /// signature is built; searching it at the same time sees a prefix of the blocks.</summary>
    internal static DeltaMatcher ForGrowingSignature(Signature signature) => new(signature, filled: false);

    /// <summary>Adds the hashed blocks [<paramref name="first"/>, <paramref name="end"/>) at the ends of their chains
    /// (the same chain order as a filled matcher). One writer; a concurrent search sees each block whole or not at all,
    /// provided it reads a block count published after this call before relying on those blocks.</summary>
    internal void Append(int first, int end)
    {
        int[] tails = _tails ?? throw new InvalidOperationException("The matcher's tables are already complete.");
        for (int i = first; i < end; i++)
        {
            uint weak = _signature.Weak[i];
            int slot = Slot(weak);
            _next[i] = -1;
            int tail = tails[slot];
            if (tail < 0)
            {
                Volatile.Write(ref _heads[slot], i);
            }
            else
            {
                Volatile.Write(ref _next[tail], i);
            }

            tails[slot] = i;
            uint bit = (weak * 2654435761u) >> _filterShift;
            _filter[bit >> 6] |= 1UL << (int)(bit & 63);
        }
    }

    /// <summary>Streams <paramref name="target"/> through the search; returns the totals and the target's XXH3-128.</summary>
    public DeltaResult Run(Stream target, IDeltaSink sink, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(sink);
        var state = new State(this, _signature, null, null, target, sink);
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

    /// <summary>Like <see cref="Run"/>, but starts while <paramref name="signing"/> is still hashing the basis: until
    /// the signature is complete, the search keeps behind the hashed blocks (they reach <see cref="SpeculationOptions.Lead"/>
    /// past it) and looks each window up among those; a match found so is rsync's match too. Every stretch taken as
    /// literal in that time (at most <see cref="SpeculationOptions.TrustedLiteral"/> bytes, then the search waits for the
    /// whole signature) is searched again against the complete signature. Returns null when one held a match after all (content moved from far later in the basis): the ops
    /// already given to <paramref name="sink"/> are then not rsync's, and the caller starts over with <see cref="Run"/>.
    /// <paramref name="source"/> is the target's file, read again by offset for those re-searches.</summary>
    public static DeltaResult? RunWhileSigning(SignatureInProgress signing, Stream target, SafeFileHandle source, IDeltaSink sink,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(signing);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sink);
        var state = new State(signing.Matcher, signing.Signature, signing, source, target, sink);
        try
        {
            if (!state.Search(cancellation))
            {
                return null;
            }
        }
        finally
        {
            state.Dispose();
        }

        return state.Result();
    }

    /// <summary>True when some block matches a window starting in [<paramref name="start"/>, <paramref name="end"/>) of
    /// <paramref name="source"/> (every such window is whole).</summary>
    private bool AnyMatchIn(SafeFileHandle source, long start, long end, byte[] scratch)
    {
        int window = _signature.BlockLength;
        int length = checked((int)(end - start)) + window - 1;
        for (int done = 0; done < length;)
        {
            int n = Execution.SourceReadStream.Read(source, scratch.AsSpan(done, length - done), start + done);
            if (n <= 0)
            {
                // The source changed under the transfer; the whole-file check catches what that did, so only say
                // that the speculation cannot be confirmed.
                return true;
            }

            done += n;
        }

        var sum = default(RollingChecksum);
        sum.Reset(scratch.AsSpan(0, window));
        int positions = (int)(end - start);
        for (int position = 0; ; position++)
        {
            uint weak = sum.Value;
            uint mixed = weak * 2654435761u;
            uint bit = mixed >> _filterShift;
            if ((_filter[bit >> 6] & (1UL << (int)(bit & 63))) != 0 && FindMatch(weak, scratch.AsSpan(position, window), -1) >= 0)
            {
                return true;
            }

            if (position + 1 >= positions)
            {
                return false;
            }

            sum.Roll(scratch[position], scratch[position + window], window);
        }
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
        private readonly Signature _signature;
        private readonly SignatureInProgress? _signing;
        private readonly SafeFileHandle? _source;
        private readonly Stream _target;
        private readonly IDeltaSink _sink;
        private readonly XxHash128 _wholeFile = new();
        private readonly byte[] _buffer;
        private readonly int _runLimit;
        private int _end;
        private bool _eof;
        private int _position;
        private int _literalStart;
        private int _runStart = -1;
        private int _runCount;
        private long _literalBytes;
        private long _matchedBytes;
        private long _length;
        private readonly DeltaMatcher _matcher;
        private readonly List<(long Start, long End)> _unconfirmed = [];
        private long _unconfirmedStart = -1;
        private long _unconfirmedBytes;

        // The target offset of _buffer[0].
        private long _bufferOffset;

        public State(DeltaMatcher matcher, Signature signature, SignatureInProgress? signing, SafeFileHandle? source, Stream target, IDeltaSink sink)
        {
            _matcher = matcher;
            _signature = signature;
            _signing = signing;
            _source = source;
            _target = target;
            _sink = sink;
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(BufferBytes, signature.BlockLength * 4));
            _runLimit = Math.Max(1, RunBytes / signature.BlockLength);
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);

        public DeltaResult Result()
        {
            var hash = new byte[StrongHash.FullLength];
            _wholeFile.GetCurrentHash(hash);
            return new DeltaResult(_length, _literalBytes, _matchedBytes, hash);
        }

        /// <summary>Runs the search; false when a speculative stretch turned out to hold a match.</summary>
        public bool Search(CancellationToken cancellation)
        {
            Signature signature = _signature;
            int blockLength = signature.BlockLength;
            bool searchable = signature.Count > 0;
            int wanted = 0;
            DeltaMatcher matcher = _matcher;

            // While the signature is being built (RunWhileSigning), matcher's tables hold the blocks hashed so far.
            bool settled = _signing is null || signature.Count == 0;
            long lead = _signing is null ? 0 : Math.Max(2, _signing.Options.Lead / blockLength);
            long trusted = _signing?.Options.TrustedLiteral ?? 0;

            // How far the search goes before it looks at the signature's progress again.
            int step = _signing is null ? int.MaxValue : (int)Math.Clamp(_signing.Options.Lead, blockLength, LiteralChunk);
            Refill();
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                if (!_eof && _end - _position <= blockLength)
                {
                    Refill();
                }

                int available = _end - _position;
                if (!settled)
                {
                    long offset = _bufferOffset + _position;
                    long unconfirmed = _unconfirmedBytes + (_unconfirmedStart >= 0 ? offset - _unconfirmedStart : 0);
                    if (available <= blockLength || unconfirmed >= trusted || _signing!.IsComplete)
                    {
                        // The end of the file (its windows shrink), too much taken on trust, or the signature is ready.
                        if (!Settle(matcher, cancellation))
                        {
                            return false;
                        }

                        settled = true;
                    }
                    else
                    {
                        // Keep behind the signature: the blocks up to a lead past this stretch must be in the tables.
                        long needed = Math.Max(wanted + 2L, ((offset + step) / blockLength) + lead);
                        _signing.WaitFor((int)Math.Min(signature.Count, needed), cancellation);
                        if (_unconfirmedStart < 0)
                        {
                            _unconfirmedStart = offset;
                        }
                    }
                }

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
                int[] heads = matcher._heads;
                int[] next = matcher._next;
                uint[] weakSums = signature.Weak;
                int shift = matcher._shift;
                ulong[] filter = matcher._filter;
                int filterShift = matcher._filterShift;
                int position = _position;
                int end = _end;
                int literalLimit = _literalStart + LiteralChunk;
                int horizon = settled ? int.MaxValue : position + step;
                while (true)
                {
                    // Most positions of changed data hit an empty filter bit: roll through them in a tight loop.
                    int skimLimit = Math.Min(Math.Min(end - window, literalLimit), horizon);
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
                        int block = matcher.FindMatch(weak, data.AsSpan(position, window), wanted);
                        if (block >= 0)
                        {
                            if (!settled)
                            {
                                CloseUnconfirmed(_bufferOffset + position);
                            }

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

                    if (position >= horizon)
                    {
                        _position = position;
                        break; // back to the checks against the signature's progress
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
                    else if (!settled)
                    {
                        _position = position;
                        break; // settle before the windows shrink
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
                        if (!settled)
                        {
                            break; // back to the checks against the signature's progress
                        }
                    }
                }
            }

            FlushLiteral();
            FlushRun();
            return true;
        }

        /// <summary>Once the signature is complete: re-searches every stretch taken as literal before it was, against
        /// the whole signature. False when one holds a match after all.</summary>
        private bool Settle(DeltaMatcher matcher, CancellationToken cancellation)
        {
            CloseUnconfirmed(_bufferOffset + _position);
            _signing!.Complete(cancellation);
            if (_unconfirmed.Count > 0)
            {
                byte[] scratch = ArrayPool<byte>.Shared.Rent(ConfirmPiece + _signature.BlockLength);
                try
                {
                    foreach ((long start, long end) in _unconfirmed)
                    {
                        for (long piece = start; piece < end; piece += ConfirmPiece)
                        {
                            cancellation.ThrowIfCancellationRequested();
                            if (matcher.AnyMatchIn(_source!, piece, Math.Min(end, piece + ConfirmPiece), scratch))
                            {
                                return false;
                            }
                        }
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(scratch);
                }
            }

            _unconfirmed.Clear();
            _unconfirmedBytes = 0;
            return true;
        }

        /// <summary>Ends the stretch of windows searched against part of the signature at <paramref name="offset"/>.</summary>
        private void CloseUnconfirmed(long offset)
        {
            if (_unconfirmedStart >= 0 && offset > _unconfirmedStart)
            {
                _unconfirmed.Add((_unconfirmedStart, offset));
                _unconfirmedBytes += offset - _unconfirmedStart;
            }

            _unconfirmedStart = -1;
        }

        private void Refill()
        {
            FlushLiteral();
            int keep = _end - _position;
            if (_position > 0 && keep > 0)
            {
                Buffer.BlockCopy(_buffer, _position, _buffer, 0, keep);
            }

            _bufferOffset += _position;
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
                // Long runs go out in pieces, so that the writer starts on them while the search goes on.
                if (++_runCount >= _runLimit)
                {
                    FlushRun();
                }

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
internal sealed record DeltaResult(long Length, long LiteralBytes, long MatchedBytes, byte[] WholeFileHash)
{
    /// <summary>True when a search that began before the signature was complete had to be done again.</summary>
    public bool SearchedTwice { get; init; }

    /// <summary>True when the first result did not verify and a second pass with 16-byte strong checksums made the file.</summary>
    public bool FullStrongSums { get; init; }
}
