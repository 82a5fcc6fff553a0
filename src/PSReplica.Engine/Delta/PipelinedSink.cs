using System.Buffers;
using System.Threading.Channels;

namespace PSReplica.Engine.Delta;

/// <summary>Hands the search's ops to another thread through a bounded queue, so that matching (reading and
/// hashing the source) and patching (reading the basis, writing the new file) run on both cores at once. The
/// queue's bound keeps memory fixed: the search waits when the writer is behind.</summary>
internal sealed class PipelinedSink : IDeltaSink, IDisposable
{
    private const int QueuedOps = 64;

    private readonly Channel<Op> _ops = Channel.CreateBounded<Op>(new BoundedChannelOptions(QueuedOps)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly Task _consumer;
    private readonly CancellationToken _cancellation;

    public PipelinedSink(IDeltaSink target, CancellationToken cancellation)
    {
        _cancellation = cancellation;
        _consumer = Task.Run(() => Consume(target), CancellationToken.None);
    }

    public void Literal(ReadOnlySpan<byte> data)
    {
        byte[] copy = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(copy);
        Post(new Op(copy, data.Length, 0, 0));
    }

    public void Copy(int firstBlock, int blockCount) => Post(new Op(null, 0, firstBlock, blockCount));

    /// <summary>Waits until the writer has applied every op; rethrows its failure.</summary>
    public void Complete()
    {
        _ops.Writer.TryComplete();
        _consumer.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        // On an early exit (a failed search), stop the writer and return what it still holds.
        _ops.Writer.TryComplete();
        try
        {
            _consumer.Wait(CancellationToken.None);
        }
        catch (AggregateException)
        {
            // Its failure was (or will be) reported by Complete or by the search that stopped.
        }

        while (_ops.Reader.TryRead(out Op op))
        {
            op.Release();
        }
    }

    private void Post(Op op)
    {
        ChannelWriter<Op> writer = _ops.Writer;
        while (!writer.TryWrite(op))
        {
            if (!writer.WaitToWriteAsync(_cancellation).AsTask().GetAwaiter().GetResult())
            {
                op.Release();

                // The writer stopped: surface its failure here, in the search.
                _consumer.GetAwaiter().GetResult();
                throw new InvalidOperationException("The delta writer stopped.");
            }
        }
    }

    private void Consume(IDeltaSink target)
    {
        ChannelReader<Op> reader = _ops.Reader;
        try
        {
            while (reader.WaitToReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out Op op))
                {
                    try
                    {
                        if (op.Data is null)
                        {
                            target.Copy(op.FirstBlock, op.BlockCount);
                        }
                        else
                        {
                            target.Literal(op.Data.AsSpan(0, op.Length));
                        }
                    }
                    finally
                    {
                        op.Release();
                    }
                }
            }
        }
        catch (Exception ex)
        {
            // Refuse further ops so that the search stops at its next one.
            _ops.Writer.TryComplete(ex);
            throw;
        }
    }

    private readonly record struct Op(byte[]? Data, int Length, int FirstBlock, int BlockCount)
    {
        public void Release()
        {
            if (Data is not null)
            {
                ArrayPool<byte>.Shared.Return(Data);
            }
        }
    }
}
