using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;
using System.Text;
using PSReplica.Engine.Native;

namespace PSReplica.Ssh;

/// <summary>
/// The system's ssh client as the transport, as rsync uses it: <c>ssh [-p port] [-l user] [args] host command</c>
/// with the child's stdin and stdout as the pipe. It brings what the built-in client lacks: the user's whole ssh
/// config, ssh-agent, ProxyJump, passphrase prompts on the terminal, and OpenSSH's speed.
/// </summary>
public sealed class ExternalSshCommand : ICommandChannel
{
    private const int StandardErrorLimit = 64 * 1024;

    /// <summary>The size asked for the client's standard input and output pipes: Linux's default limit for an
    /// unprivileged process (/proc/sys/fs/pipe-max-size), as the agent asks for its own input.</summary>
    internal const int PipeBytes = 1 << 20;

    private readonly Process _process;
    private readonly CommandChannelStream _stream;
    private readonly StringBuilder _standardError = new();
    private readonly Task _errorPump;
    private readonly string _description;
    private bool _disposed;

    private ExternalSshCommand(Process process, TimeSpan idleTimeout, string description)
    {
        _process = process;
        _description = description;
        GrowPipes(process);
        _stream = new CommandChannelStream(process.StandardOutput.BaseStream, process.StandardInput.BaseStream, idleTimeout, KillProcess, Translate, description, BrokenEnd);
        _errorPump = Task.Run(PumpStandardErrorAsync);
    }

    /// <summary>The argument list the process is started with (for diagnostics and tests).</summary>
    public IReadOnlyList<string> CommandLine { get; private init; } = [];

    public Stream Stream => _stream;

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

    public int? ExitStatus => _process.HasExited ? _process.ExitCode : null;

    /// <summary>The argument list for <paramref name="remoteCommand"/> on <paramref name="options"/>' host.</summary>
    public static IReadOnlyList<string> BuildCommandLine(ExternalSshOptions options, string remoteCommand)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(remoteCommand);
        ArgumentException.ThrowIfNullOrEmpty(options.Host);
        if (options.Host.StartsWith('-') || (options.User?.StartsWith('-') ?? false))
        {
            throw new SyncException(ErrorIds.InvalidRemotePath, SyncErrorKind.InvalidArgument, $"The host '{options.Host}' or user would be read by ssh as an option.", options.Host);
        }

        var words = new List<string>(RemoteShell.SplitCommandLine(options.CommandLine));
        if (options.Port is int port)
        {
            words.Add("-p");
            words.Add(port.ToString(CultureInfo.InvariantCulture));
        }

        if (!string.IsNullOrEmpty(options.User))
        {
            words.Add("-l");
            words.Add(options.User);
        }

        words.AddRange(options.Arguments);
        words.Add(options.Host);
        words.Add(remoteCommand);
        return words;
    }

    /// <summary>Starts the client running <paramref name="remoteCommand"/> on the host.</summary>
    /// <exception cref="SyncException">SshCommandFailed when the client cannot be started.</exception>
    public static ExternalSshCommand Start(ExternalSshOptions options, string remoteCommand)
    {
        IReadOnlyList<string> words = BuildCommandLine(options, remoteCommand);
        var info = new ProcessStartInfo(words[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        for (int i = 1; i < words.Count; i++)
        {
            info.ArgumentList.Add(words[i]);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or FileNotFoundException)
        {
            throw new SyncException(ErrorIds.SshCommandFailed, SyncErrorKind.NotFound, $"Cannot start the ssh client '{words[0]}': {ex.Message}", words[0], ex);
        }

        string description = $"{words[0]} {options.Host}";
        return new ExternalSshCommand(process, options.IdleTimeout, description) { CommandLine = words };
    }

    public void CloseInput()
    {
        try
        {
            _stream.CompleteWrites();
        }
        catch (SyncException)
        {
            // The pipe broke; closing it below ends what is left.
        }

        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The client is gone; its exit says why.
        }
    }

    /// <summary>
    /// Waits for the client to end. ssh exits with the remote command's status, or 255 for its own failures:
    /// 255 is reported as a SyncException with the id its message points to (SshAuthenticationFailed,
    /// HostKeyMismatch, SshConnectionFailed...), else SshCommandFailed.
    /// </summary>
    public async Task<int?> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);

        // A ControlMaster that ssh left behind can hold stderr open: give the pump a moment, not forever.
        await Task.WhenAny(_errorPump, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false);
        int code = _process.ExitCode;
        if (code == 255)
        {
            throw Failure(StandardError);
        }

        return code;
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
        if (!_process.HasExited)
        {
            KillProcess();
        }

        _process.Dispose();
    }

    /// <summary>The error ssh's own message (exit 255) describes.</summary>
    internal SyncException Failure(string standardError)
    {
        string text = standardError.Trim();
        (string id, SyncErrorKind kind) = text switch
        {
            _ when text.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", StringComparison.Ordinal) => (ErrorIds.HostKeyMismatch, SyncErrorKind.PermissionDenied),
            _ when text.Contains("No ED25519 host key is known", StringComparison.Ordinal) || text.Contains("host key is known", StringComparison.Ordinal)
                || text.Contains("Host key verification failed", StringComparison.Ordinal) => (ErrorIds.HostKeyUnknown, SyncErrorKind.PermissionDenied),
            _ when text.Contains("Permission denied", StringComparison.Ordinal) => (ErrorIds.SshAuthenticationFailed, SyncErrorKind.PermissionDenied),
            _ when text.Contains("timed out", StringComparison.OrdinalIgnoreCase) => (ErrorIds.SshConnectionTimeout, SyncErrorKind.ReadError),
            _ when text.Contains("Connection refused", StringComparison.Ordinal) || text.Contains("Could not resolve", StringComparison.Ordinal)
                || text.Contains("Connection closed", StringComparison.Ordinal) || text.Contains("closed by remote host", StringComparison.Ordinal)
                || text.Contains("Connection reset", StringComparison.Ordinal) || text.Contains("No route", StringComparison.Ordinal)
                || text.Contains("Broken pipe", StringComparison.Ordinal) => (ErrorIds.SshConnectionFailed, SyncErrorKind.ReadError),
            _ => (ErrorIds.SshCommandFailed, SyncErrorKind.ReadError),
        };
        string detail = text.Length == 0 ? "it printed nothing" : text;
        return new SyncException(id, kind, $"{_description}: ssh failed (exit 255): {detail}", _description);
    }

    /// <summary>At end of output: ssh's own failure (exit 255) is an error, not an end; wait briefly for its exit.</summary>
    private SyncException? BrokenEnd()
    {
        if (_process.WaitForExit(TimeSpan.FromSeconds(2)) && _process.ExitCode == 255)
        {
            _errorPump.Wait(TimeSpan.FromSeconds(2));
            return Failure(StandardError);
        }

        return null;
    }

    /// <summary>
    /// Grows the pipes to the client from the default 64 KiB to <see cref="PipeBytes"/>. The write-behind pump hands
    /// the pipe up to a megabyte at a time; into 64 KiB such a write went in some sixteen pieces, each a wake-up of the
    /// pump and of ssh (which drains its input as it encrypts, a packet's worth at a time), so that for a large push the
    /// two took turns on the pipe rather than working side by side. With room for a megabyte a write is one copy and ssh
    /// finds a full pipe each time it reads; the same holds for a pull on the output side. A system that refuses the
    /// size (another kernel, a lower limit) keeps what it has.
    /// </summary>
    private static void GrowPipes(Process process)
    {
        if (process.StandardInput.BaseStream is PipeStream input)
        {
            _ = Posix.SetPipeSize((int)input.SafePipeHandle.DangerousGetHandle(), PipeBytes);
        }

        if (process.StandardOutput.BaseStream is PipeStream output)
        {
            _ = Posix.SetPipeSize((int)output.SafePipeHandle.DangerousGetHandle(), PipeBytes);
        }
    }

    /// <summary>The sizes of the pipes to the client's standard input and output (for tests), -errno where unknown.</summary>
    internal (int Input, int Output) PipeSizes() => (
        _process.StandardInput.BaseStream is PipeStream input ? Posix.PipeSize((int)input.SafePipeHandle.DangerousGetHandle()) : -1,
        _process.StandardOutput.BaseStream is PipeStream output ? Posix.PipeSize((int)output.SafePipeHandle.DangerousGetHandle()) : -1);

    private void KillProcess()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private SyncException? Translate(Exception ex)
    {
        if (ex is IOException)
        {
            string detail = StandardError.Trim();
            return new SyncException(ErrorIds.SshConnectionFailed, SyncErrorKind.ReadError,
                $"{_description}: the ssh pipe broke: {ex.Message}{(detail.Length > 0 ? " (ssh: " + detail + ")" : string.Empty)}", _description, ex);
        }

        return null;
    }

    private async Task PumpStandardErrorAsync()
    {
        char[] buffer = new char[4096];
        try
        {
            int read;
            while ((read = await _process.StandardError.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (_standardError)
                {
                    int room = StandardErrorLimit - _standardError.Length;
                    if (room > 0)
                    {
                        _standardError.Append(buffer, 0, Math.Min(room, read));
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process went away.
        }
    }
}
