using System.Buffers;
using System.Buffers.Binary;

namespace PSReplica.Engine.Protocol;

/// <summary>Reads frames from a stream. The announced length is checked against the limit before a buffer is rented,
/// the kind before the frame is handed on; a peer that sends nothing for the idle timeout ends the session.</summary>
internal sealed class FrameReader
{
    private readonly Stream _input;
    private readonly byte[] _header = new byte[Frame.HeaderLength];

    public FrameReader(Stream input) => _input = input;

    /// <summary>The next frame, or null when the stream ends cleanly between frames.</summary>
    /// <exception cref="SyncException">FrameTooLarge, ProtocolViolation, PeerTimeout or ConnectionLost.</exception>
    public async Task<Frame?> ReadAsync(TimeSpan idleTimeout, CancellationToken cancellation)
    {
        int got = await FillAsync(_header, idleTimeout, cancellation).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }

        if (got < Frame.HeaderLength)
        {
            throw ProtocolFault.ConnectionLost("the stream ended inside a frame header");
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(_header);
        byte kind = _header[4];
        uint id = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(5));
        if (length > ProtocolLimits.MaxFramePayload)
        {
            throw ProtocolFault.FrameTooLarge(length);
        }

        if (kind is < (byte)FrameKind.Control or > (byte)FrameKind.CompressedData)
        {
            throw ProtocolFault.Violation($"a frame of unknown kind 0x{kind:x2}");
        }

        if (length == 0)
        {
            return new Frame((FrameKind)kind, id, null, 0);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            if (await FillAsync(buffer.AsMemory(0, (int)length), idleTimeout, cancellation).ConfigureAwait(false) < length)
            {
                throw ProtocolFault.ConnectionLost("the stream ended inside a frame");
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new Frame((FrameKind)kind, id, buffer, (int)length);
    }

    /// <summary>Reads until <paramref name="destination"/> is full or the stream ends; returns the bytes read.</summary>
    private async Task<int> FillAsync(Memory<byte> destination, TimeSpan idleTimeout, CancellationToken cancellation)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n;
            try
            {
                if (_input is DescriptorInput descriptor)
                {
                    // Read in place, the timeout and cancellation polled (the agent's standard input).
                    n = descriptor.Read(destination[total..].Span, idleTimeout, cancellation);
                }
                else
                {
                    // WaitAsync abandons a read that the stream itself cannot cancel (console and pipe streams).
                    Task<int> read = _input.ReadAsync(destination[total..], cancellation).AsTask();
                    n = idleTimeout == Timeout.InfiniteTimeSpan
                        ? await read.WaitAsync(cancellation).ConfigureAwait(false)
                        : await read.WaitAsync(idleTimeout, cancellation).ConfigureAwait(false);
                }
            }
            catch (TimeoutException)
            {
                throw ProtocolFault.Timeout($"{idleTimeout.TotalSeconds:0.###} seconds");
            }
            catch (IOException ex)
            {
                throw ProtocolFault.ConnectionLost(ex.Message);
            }
            catch (ObjectDisposedException)
            {
                throw ProtocolFault.ConnectionLost("the stream was closed");
            }

            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
