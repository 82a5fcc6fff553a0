using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Receiving;

namespace PSReplica.Engine.Agent;

/// <summary>The agent: serves one tree over a pair of streams (stdin and stdout of an SSH exec channel, or pipes in
/// tests) until the controller says goodbye or closes the connection.</summary>
public static class AgentServer
{
    /// <summary>"PSReplica agent X, protocol N..M", as <c>--version</c> prints it.</summary>
    public static string VersionText => $"PSReplica agent {Handshake.SoftwareVersion}, protocol {Handshake.MinVersion}..{Handshake.MaxVersion}";

    /// <summary>The pipe size the agent asks for on its standard input: Linux's default limit for an unprivileged
    /// process (/proc/sys/fs/pipe-max-size).</summary>
    internal const int InputPipeBytes = 1 << 20;

    /// <summary>The process's standard input read in place (poll, then read), for <see cref="ServeAsync(Stream, Stream, TextWriter?, CancellationToken)"/>.</summary>
    /// <remarks>
    /// When that input is a pipe (OpenSSH's sshd gives a command pipes), it is grown from the default 64 KiB to
    /// <see cref="InputPipeBytes"/>. sshd moves the channel's data into the pipe as it fits and gives the client back
    /// window for what it moved, in an SSH message of its own (and a TCP segment, and the client's ACK of it) for about
    /// every 100 KiB: a push of 1 GiB drew some 7,000 of them, about 0.6 MB on the wire. With room for a megabyte sshd
    /// moves more per turn, and so answers with fewer, larger window adjustments and fewer wake-ups of its own and of
    /// the agent. A descriptor that is not a pipe, or a system that refuses the size, keeps what it has.
    /// </remarks>
    public static Stream StandardInput()
    {
        _ = Posix.SetPipeSize(0, InputPipeBytes);
        return new DescriptorInput(0);
    }

    /// <summary>Runs one session. Returns 0 when it ended cleanly, 1 after an error (sent to the controller as an error
    /// frame when the connection still works, and written to <paramref name="diagnostics"/>).</summary>
    public static Task<int> ServeAsync(Stream input, Stream output, TextWriter? diagnostics, CancellationToken cancellation) =>
        ServeAsync(input, output, diagnostics, ProtocolLimits.DefaultHandshakeTimeout, cancellation);

    internal static async Task<int> ServeAsync(Stream input, Stream output, TextWriter? diagnostics, TimeSpan handshakeTimeout, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var reader = new FrameReader(input);
        var writer = new FrameWriter(output);
        SafeTree? tree = null;
        try
        {
            (Handshake.Hello hello, RemoteSide role, string root) = await Handshake.AcceptAsync(reader, writer, handshakeTimeout, cancellation).ConfigureAwait(false);
            tree = new SafeTree(root);
            ListingEntry? rootEntry = tree.DescribeRoot(role == RemoteSide.Source ? ErrorIds.SourceNotFound : ErrorIds.DestinationNotDirectory);
            if (role == RemoteSide.Source && rootEntry is null)
            {
                throw new SyncException(ErrorIds.SourceNotFound, SyncErrorKind.NotFound, $"The source '{root}' does not exist on the remote host.", root);
            }

            await Handshake.SendOpenedAsync(writer, rootEntry, cancellation).ConfigureAwait(false);
            bool deflate = false;
            bool compact = false;
            bool wide = false;
            foreach (string capability in hello.Capabilities)
            {
                deflate |= capability == Handshake.Deflate;
                compact |= capability == Handshake.CompactListings;
                wide |= capability == Handshake.WideWindows;
            }

            writer.BandwidthLimit = hello.BandwidthLimit;
            var mux = new Multiplexer(reader, writer, hello.IdleTimeout, acceptsRequests: true, deflate ? hello.CompressionLevel : 0, wide);
            await using (mux.ConfigureAwait(false))
            {
                using var session = new AgentSession(mux, tree, role) { CompactListings = compact, RootEntry = rootEntry };
                mux.OnRequest = session.Handle;
                mux.Start();
                await mux.Completion.ConfigureAwait(false);
                await session.DrainAsync().ConfigureAwait(false);
                if (mux.Fault is { } fault)
                {
                    diagnostics?.WriteLine($"PSReplica agent: {fault.ErrorId}: {fault.Message}");
                    return 1;
                }

                return 0;
            }
        }
        catch (SyncException ex)
        {
            diagnostics?.WriteLine($"PSReplica agent: {ex.ErrorId}: {ex.Message}");
            if (ex.ErrorId != ErrorIds.ConnectionLost)
            {
                try
                {
                    using var message = new WireWriter();
                    WireError.Write(message, ex);
                    await writer.WriteAsync(FrameKind.Error, 0, message.WrittenMemory, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception inner) when (inner is SyncException or TimeoutException)
                {
                    // The controller is gone; the diagnostics line is all that remains.
                }
            }

            return 1;
        }
        finally
        {
            tree?.Dispose();
        }
    }
}
