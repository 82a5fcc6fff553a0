using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace PSReplica.Ssh.Tests;

public sealed class WriteCoalescerTests
{
    [Fact]
    public void Writes_made_while_the_transport_is_busy_leave_as_one_write_in_order()
    {
        using var target = new GatedStream();
        var coalescer = new WriteCoalescer(target, flushTarget: false, "test writer");
        coalescer.Write([1]);
        Assert.True(target.Entered.Wait(TimeSpan.FromSeconds(30)), "the pump did not start writing");

        // The pump is inside the transport's first write: everything written now gathers.
        var expected = new List<byte> { 1 };
        for (int i = 2; i < 200; i++)
        {
            coalescer.Write([(byte)i, (byte)i]);
            expected.Add((byte)i);
            expected.Add((byte)i);
        }

        target.Gate.Set();
        coalescer.Complete();

        Assert.Equal(2, target.WriteCount);
        Assert.Equal(expected.ToArray(), target.ToArray());
    }

    [Fact]
    public void More_than_both_buffers_arrives_whole()
    {
        using var target = new GatedStream();
        target.Gate.Set();
        var coalescer = new WriteCoalescer(target, flushTarget: true, "test writer");
        byte[] data = new byte[(WriteCoalescer.BufferSize * 5) + 12345];
        new Random(5).NextBytes(data);
        for (int offset = 0; offset < data.Length; offset += 70000)
        {
            coalescer.Write(data.AsSpan(offset, Math.Min(70000, data.Length - offset)));
        }

        coalescer.Complete();
        Assert.Equal(data, target.ToArray());
    }

    [Fact]
    public void A_transport_failure_is_thrown_to_the_writer_and_by_Complete()
    {
        using var target = new GatedStream { Failure = new IOException("pipe broke") };
        target.Gate.Set();
        var coalescer = new WriteCoalescer(target, flushTarget: false, "test writer");
        coalescer.Write([1, 2, 3]);

        // The pump fails on its first write; from then on every call reports it.
        void WriteUntilFailure()
        {
            while (true)
            {
                coalescer.Write([4]);
                coalescer.ThrowIfFailed();
                Thread.Yield();
            }
        }

        IOException thrown = Assert.Throws<IOException>(WriteUntilFailure);
        Assert.Equal("pipe broke", thrown.Message);
        Assert.Throws<IOException>(coalescer.Complete);
    }

    [Fact]
    public void Writing_after_Complete_fails()
    {
        using var target = new GatedStream();
        target.Gate.Set();
        var coalescer = new WriteCoalescer(target, flushTarget: false, "test writer");
        coalescer.Complete();
        Assert.Throws<ObjectDisposedException>(() => coalescer.Write([1]));
    }

    [Fact]
    public void With_a_packet_size_whole_packets_leave_while_more_waits_and_the_tail_follows_when_nothing_does()
    {
        var log = new List<string>();
        using var target = new SteppedStream(log);
        var coalescer = new WriteCoalescer(target, flushTarget: false, "test writer", packetSize: 16, new RecordingBatching(log));
        byte[] data = new byte[71];
        new Random(7).NextBytes(data);

        coalescer.Write(data.AsSpan(0, 1));
        target.WaitEntered();

        // While the transport is busy: 40 bytes gather, two packets and 8 over.
        coalescer.Write(data.AsSpan(1, 40));
        target.Step();
        target.WaitEntered();

        // The pump is sending the two packets; 30 more bytes arrive, so the 8 wait to go with them.
        coalescer.Write(data.AsSpan(41, 30));
        target.Step();
        target.WaitEntered();
        target.Step();
        target.WaitEntered();
        target.Step();
        coalescer.Complete();

        Assert.Equal(["write 1", "hold", "write 32", "write 32", "write 6", "release"], log);
        Assert.Equal(data, target.ToArray());
    }

    [Fact]
    public void Without_a_packet_size_nothing_is_held_for_the_network()
    {
        // Every write would count as a burst, and each short request would wait for the linger before it left.
        var log = new List<string>();
        using var target = new SteppedStream(log) { Free = true };
        var coalescer = new WriteCoalescer(target, flushTarget: false, "test writer", packetSize: 0, new RecordingBatching(log));
        coalescer.Write(new byte[100]);
        coalescer.Complete();

        Assert.Equal(["write 100"], log);
    }

    [Fact]
    public void Packets_wait_for_the_window_instead_of_being_cut_at_its_edge()
    {
        var log = new List<string>();
        using var window = new FakeWindow(20);
        using var target = new SteppedStream(log) { Window = window };
        var coalescer = new WriteCoalescer(target, flushTarget: false, "test writer", packetSize: 16, window: window);
        byte[] data = new byte[65];
        new Random(8).NextBytes(data);

        coalescer.Write(data.AsSpan(0, 1));
        target.WaitEntered();
        coalescer.Write(data.AsSpan(1, 64));
        target.Step();

        // One packet fits the window of 19 left; the pump waits for the rest rather than send 3 bytes.
        target.WaitEntered();
        target.Step();
        Assert.True(window.Waiting.Wait(TimeSpan.FromSeconds(30)), "the pump did not wait for the window");
        window.Grow(45);
        target.WaitEntered();
        target.Step();
        coalescer.Complete();

        Assert.Equal(["write 1", "write 16", "write 48"], log);
        Assert.Equal(data, target.ToArray());
    }

    [Fact]
    public void A_window_that_does_not_grow_gets_one_packet_at_a_time()
    {
        var log = new List<string>();
        using var window = new FakeWindow(4) { NeverGrows = true };
        using var target = new SteppedStream(log) { Window = window, Free = true };
        var coalescer = new WriteCoalescer(target, flushTarget: false, "test writer", packetSize: 16, window: window);
        byte[] data = new byte[48];
        new Random(9).NextBytes(data);
        coalescer.Write(data);
        coalescer.Complete();

        Assert.Equal(["write 16", "write 16", "write 16"], log);
        Assert.Equal(data, target.ToArray());
    }

    /// <summary>Records what is written; each write waits for <see cref="Gate"/> and says it was entered.</summary>
    private sealed class GatedStream : MemoryStream
    {
        public ManualResetEventSlim Gate { get; } = new();

        public ManualResetEventSlim Entered { get; } = new();

        public Exception? Failure { get; init; }

        public int WriteCount { get; private set; }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Entered.Set();
            Gate.Wait();
            if (Failure is not null)
            {
                throw Failure;
            }

            WriteCount++;
            base.Write(buffer, offset, count);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Gate.Dispose();
                Entered.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Logs each write's size; each write says it was entered and waits for <see cref="Step"/>, unless
    /// <see cref="Free"/>. With a <see cref="Window"/> it takes no more than the window holds, as SSH.NET's channel
    /// does (it sends what fits, then waits).</summary>
    private sealed class SteppedStream(List<string> log) : MemoryStream
    {
        private readonly SemaphoreSlim _entered = new(0);
        private readonly SemaphoreSlim _steps = new(0);

        public FakeWindow? Window { get; init; }

        public bool Free { get; init; }

        public void WaitEntered() => Assert.True(_entered.Wait(TimeSpan.FromSeconds(30)), "the pump did not write");

        public void Step() => _steps.Release();

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (log)
            {
                log.Add($"write {count}");
            }

            Window?.Take(count);
            if (!Free)
            {
                _entered.Release();
                Assert.True(_steps.Wait(TimeSpan.FromSeconds(30)), "the test did not let the write finish");
            }

            base.Write(buffer, offset, count);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _entered.Dispose();
                _steps.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class RecordingBatching(List<string> log) : ISendBatching
    {
        public void Hold()
        {
            lock (log)
            {
                log.Add("hold");
            }
        }

        public void Release()
        {
            lock (log)
            {
                log.Add("release");
            }
        }
    }

    private sealed class FakeWindow(long available) : ISendWindow, IDisposable
    {
        private readonly SemaphoreSlim _grown = new(0);
        private long _available = available;

        public ManualResetEventSlim Waiting { get; } = new();

        public bool NeverGrows { get; init; }

        public long Available => Interlocked.Read(ref _available);

        public void Take(int count)
        {
            if (!NeverGrows)
            {
                Assert.True(count <= Available, $"the pump handed the transport {count} bytes with {Available} in the window");
                Interlocked.Add(ref _available, -count);
            }
        }

        public void Grow(int count)
        {
            Interlocked.Add(ref _available, count);
            _grown.Release();
        }

        public bool WaitForGrowth(TimeSpan timeout)
        {
            Waiting.Set();
            return !NeverGrows && _grown.Wait(TimeSpan.FromSeconds(30));
        }

        public void Dispose()
        {
            _grown.Dispose();
            Waiting.Dispose();
        }
    }
}
