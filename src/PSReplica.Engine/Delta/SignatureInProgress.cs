using System.Buffers;

namespace PSReplica.Engine.Delta;

/// <summary>A basis signature built in order on a background thread while the search already runs: blocks become
/// readable, and in the matcher's tables, as soon as they are hashed (<see cref="WaitFor"/>, <see cref="Complete"/>). Lets a local transfer start searching and writing before the whole basis is
/// read, instead of waiting for the full signature as rsync's sender does.</summary>
internal sealed class SignatureInProgress : IDisposable
{
    private readonly SafeFileHandle _basis;
    private readonly long _length;
    private readonly CancellationTokenSource _stop;
    private readonly Task _builder;
    private readonly object _gate = new();
    private int _built;
    private bool _complete;
    private Exception? _failure;

    /// <summary>Starts hashing <paramref name="basis"/> (read by offset; its position is not used).</summary>
    public SignatureInProgress(SafeFileHandle basis, long length, int? blockLength, SpeculationOptions options,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(basis);
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        int block = blockLength ?? BlockSizing.BlockLength(length);
        Signature = new Signature(length, block, BlockSizing.StrongLength(length, block));
        Matcher = DeltaMatcher.ForGrowingSignature(Signature);
        _basis = basis;
        _length = length;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        _builder = Task.Factory.StartNew(Build, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The signature being filled; entries below <see cref="Built"/> are final.</summary>
    public Signature Signature { get; }

    public SpeculationOptions Options { get; }

    /// <summary>The matcher over the blocks hashed so far (all of them once <see cref="IsComplete"/>).</summary>
    public DeltaMatcher Matcher { get; }

    /// <summary>How many blocks, from the first, are hashed and in <see cref="Matcher"/>'s tables.</summary>
    public int Built => Volatile.Read(ref _built);

    /// <summary>True once every block is hashed and the matcher is ready.</summary>
    public bool IsComplete => Volatile.Read(ref _complete);

    /// <summary>Waits until the first <paramref name="blocks"/> blocks are hashed; rethrows the builder's failure.</summary>
    public void WaitFor(int blocks, CancellationToken cancellation)
    {
        if (Built >= blocks)
        {
            return;
        }

        lock (_gate)
        {
            while (_built < blocks && _failure is null)
            {
                cancellation.ThrowIfCancellationRequested();
                Monitor.Wait(_gate, 100);
            }
        }

        ThrowIfFailed();
    }

    /// <summary>Waits for the whole signature and returns the matcher over it.</summary>
    public DeltaMatcher Complete(CancellationToken cancellation)
    {
        lock (_gate)
        {
            while (!_complete && _failure is null)
            {
                cancellation.ThrowIfCancellationRequested();
                Monitor.Wait(_gate, 100);
            }
        }

        ThrowIfFailed();
        return Matcher;
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _builder.Wait(CancellationToken.None);
        }
        catch (AggregateException)
        {
            // A failure was reported to the search (or it no longer matters: the transfer is over).
        }

        _stop.Dispose();
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(_failure).Throw();
        }
    }

    private void Build()
    {
        Signature signature = Signature;
        int block = signature.BlockLength;
        int perRead = Math.Max(1, Options.StretchBytes / block) * block;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(perRead);
        try
        {
            int index = 0;
            for (long offset = 0; offset < _length;)
            {
                _stop.Token.ThrowIfCancellationRequested();
                int count = (int)Math.Min(perRead, _length - offset);
                for (int done = 0; done < count;)
                {
                    int n = RandomAccess.Read(_basis, buffer.AsSpan(done, count - done), offset + done);
                    if (n <= 0)
                    {
                        throw PatchWriter.Invalid("the basis file became shorter while its signature was built");
                    }

                    done += n;
                }

                SignatureBuilder.HashBlocks(signature, buffer.AsSpan(0, count), index);
                int end = index + ((count + block - 1) / block);
                Matcher.Append(index, end);
                index = end;
                offset += count;
                lock (_gate)
                {
                    Volatile.Write(ref _built, index);
                    Monitor.PulseAll(_gate);
                }

                Options.Published?.Invoke(index);
            }

            lock (_gate)
            {
                Volatile.Write(ref _complete, true);
                Monitor.PulseAll(_gate);
            }
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                _failure = ex;
                Monitor.PulseAll(_gate);
            }

            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
