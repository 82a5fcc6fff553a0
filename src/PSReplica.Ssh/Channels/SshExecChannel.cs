using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Renci.SshNet;

namespace PSReplica.Ssh;

/// <summary>A command run through an SSH.NET exec channel.</summary>
/// <remarks>
/// SSH.NET queues received data in an unbounded pipe and widens the SSH window as data arrives, not as it is
/// read; memory is bounded only by a reader that keeps up (the protocol's reader does).
/// </remarks>
internal sealed class SshExecChannel : ICommandChannel
{
    private const int StandardErrorLimit = 64 * 1024;

    private readonly SshCommand _command;
    private readonly Task _execution;
    private readonly Stream _input;
    private readonly CommandChannelStream _stream;
    private readonly SshChannelWindow? _window;
    private readonly StringBuilder _standardError = new();
    private readonly Thread _errorPump;
    private readonly string _description;
    private bool _inputClosed;
    private bool _disposed;

    public SshExecChannel(SshClient client, string commandText, TimeSpan idleTimeout, string description)
    {
        _description = description;
        _command = client.CreateCommand(commandText);
        _execution = _command.ExecuteAsync();
        _input = InputOf(_command);
        _window = SshChannelWindow.For(client, _command);
        PacketSize = PacketSizeOf(_command);
        Socket = SocketOf(client);
        Batching = TcpCork.For(Socket);
        _stream = new CommandChannelStream(_command.OutputStream, _input, idleTimeout, Abort, ex => SshFailure.Translate(ex, description), description, BrokenEnd,
            PacketSize, Batching, _window);
        _errorPump = new Thread(PumpStandardError) { IsBackground = true, Name = "PSReplica ssh stderr" };
        _errorPump.Start();
    }

    public Stream Stream => _stream;

    /// <summary>The packet size the writer aligns to (0: unknown to it).</summary>
    internal int PacketSize { get; }

    /// <summary>The connection's TCP socket, if SSH.NET showed it.</summary>
    internal Socket? Socket { get; }

    /// <summary>How the writer batches the socket's segments, if it can.</summary>
    internal ISendBatching? Batching { get; }

    /// <summary>The channel's window as the writer sees it, if SSH.NET showed it.</summary>
    internal ISendWindow? Window => _window;

    /// <summary>The command's standard input. SSH.NET gives it only while the command runs, and a short command can end
    /// before it is asked for (the test suite's `id -un` once did): such a command takes no more input, and its output
    /// and exit status are read as usual.</summary>
    private static Stream InputOf(SshCommand command)
    {
        try
        {
            return command.CreateInputStream();
        }
        catch (InvalidOperationException)
        {
            return Stream.Null;
        }
    }

    public string StandardError
    {
        get
        {
            lock (_standardError)
            {
                return _standardError.ToString();
            }
        }
    }

    public int? ExitStatus => _command.ExitStatus;

    public void CloseInput()
    {
        if (_inputClosed)
        {
            return;
        }

        _inputClosed = true;
        try
        {
            _stream.CompleteWrites();
        }
        catch (SyncException)
        {
            // The connection broke: there is no stdin left to end; the session's reader reports the failure.
        }

        if (_execution.IsCompleted)
        {
            // The command has ended and its channel is closed: there is no stdin left to end. An EOF sent now would
            // follow SSH.NET's own channel close, and OpenSSH's sshd answers "ieof packet referred to nonexistent
            // channel" by dropping the whole connection (seen under load: the next exec failed "Client not connected").
            return;
        }

        bool wroteAnything = _input.Position > 0;
        try
        {
            _input.Dispose();
            if (!wroteAnything)
            {
                // SSH.NET sends EOF on dispose only after data was written; a command waiting for EOF on an empty
                // stdin would hang. Its channel can send EOF itself, but only through a non-public member.
                SendEofThroughChannel();
            }
        }
        catch (Exception ex) when (SshFailure.Translate(ex, _description) is not null)
        {
            // Sending EOF on a dropped connection fails (SshConnectionException "Client not connected"); there is no
            // stdin left to end, and the run reports why the connection ended. Thrown from here, it would replace that
            // error while the connection is disposed.
        }
    }

    public async Task<int?> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _execution.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Killed: the exit status says how it ended.
        }
        catch (Exception ex) when (SshFailure.Translate(ex, _description) is SyncException translated)
        {
            throw translated;
        }

        _errorPump.Join(TimeSpan.FromSeconds(5));
        return _command.ExitStatus;
    }

    public void Kill() => _stream.Abort();

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stream.Dispose();
        if (!_execution.IsCompleted)
        {
            Abort();
        }

        _command.Dispose();
        _window?.Dispose();
    }

    private void Abort()
    {
        try
        {
            _command.CancelAsync(forceKill: true, millisecondsTimeout: 200);
        }
        catch (Exception ex) when (ex is InvalidOperationException || SshFailure.Translate(ex, _description) is not null)
        {
            // Not started or already over, or the connection is gone (nothing left to signal).
        }

        // Blocked readers wake up on a disposed pipe and see end-of-stream.
        _command.OutputStream.Dispose();
    }

    /// <summary>SSH.NET ends the output the same way for an exit and a dropped connection; the task tells them apart.</summary>
    private SyncException? BrokenEnd()
    {
        if (_execution.IsFaulted && _execution.Exception?.InnerException is Exception cause)
        {
            return SshFailure.Translate(cause, _description)
                ?? new SyncException(ErrorIds.SshConnectionFailed, SyncErrorKind.ReadError, $"{_description}: the SSH channel ended abnormally: {cause.Message}", _description, cause);
        }

        return null;
    }

    private void PumpStandardError()
    {
        var decoder = Encoding.UTF8.GetDecoder();
        byte[] buffer = new byte[4096];
        char[] chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
        try
        {
            int read;
            while ((read = _command.ExtendedOutputStream.Read(buffer, 0, buffer.Length)) > 0)
            {
                int count = decoder.GetChars(buffer, 0, read, chars, 0);
                lock (_standardError)
                {
                    int room = StandardErrorLimit - _standardError.Length;
                    if (room > 0)
                    {
                        _standardError.Append(chars, 0, Math.Min(room, count));
                    }
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The command was disposed while its stderr was still open.
        }
    }

    /// <summary>The largest data packet the server takes on this channel (32 KiB from OpenSSH's sshd), which SSH.NET
    /// keeps to non-publicly; 0 when this SSH.NET has no such member (writes are then not aligned to packets).</summary>
    internal static int PacketSizeOf(SshCommand command)
    {
        object? channel = typeof(SshCommand).GetField("_channel", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(command);
        try
        {
            object? size = channel?.GetType().GetProperty("RemotePacketSize", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(channel);
            return size is uint packet and > 0 and <= WriteCoalescer.BufferSize ? (int)packet : 0;
        }
        catch (TargetInvocationException)
        {
            // The channel was never confirmed open.
            return 0;
        }
    }

    /// <summary>The TCP socket under an SSH.NET connection, which SSH.NET does not expose; null when this SSH.NET keeps it
    /// elsewhere (its segments are then not batched).</summary>
    internal static Socket? SocketOf(SshClient client)
    {
        object? session = typeof(BaseClient).GetProperty("Session", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(client);
        return session?.GetType().GetField("_socket", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(session) as Socket;
    }

    private void SendEofThroughChannel()
    {
        object? channel = typeof(SshCommand).GetField("_channel", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(_command);
        MethodInfo? sendEof = channel?.GetType().GetMethod("SendEof", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        try
        {
            sendEof?.Invoke(channel, null);
        }
        catch (TargetInvocationException)
        {
            // The channel or the connection closed meanwhile; there is no stdin left to end.
        }
    }
}
