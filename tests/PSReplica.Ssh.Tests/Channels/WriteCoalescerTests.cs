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
}
