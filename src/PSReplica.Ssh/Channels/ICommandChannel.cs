namespace PSReplica.Ssh;

/// <summary>
/// A command running on the far side of an SSH connection, seen as a pipe: <see cref="Stream"/> reads its
/// standard output and writes its standard input. Both transports implement it: SSH.NET's exec channel
/// (<see cref="SshSession.OpenCommand"/>) and the system ssh client as a child process (<see cref="ExternalSshCommand"/>).
/// </summary>
public interface ICommandChannel : IDisposable
{
    /// <summary>
    /// The duplex pipe: Read is the command's stdout, Write its stdin. A read or write that waits longer than the
    /// idle timeout aborts the channel with a SyncException (ErrorId SshConnectionTimeout); a broken connection
    /// gives SshConnectionFailed, also when it shows as end-of-stream. Write in large pieces (256 KiB to 1 MiB):
    /// SSH.NET sends each write as its own packets, and larger writes measured faster.
    /// </summary>
    Stream Stream { get; }

    /// <summary>The command's standard error so far (the first 64 KiB), for error messages.</summary>
    string StandardError { get; }

    /// <summary>The exit status once the command has ended; null before, or when it ended by a signal.</summary>
    int? ExitStatus { get; }

    /// <summary>Sends end-of-file on the command's stdin; further writes fail.</summary>
    void CloseInput();

    /// <summary>Waits for the command to end; returns its exit status (null if it ended by a signal).</summary>
    Task<int?> WaitForExitAsync(CancellationToken cancellationToken = default);

    /// <summary>Ends the command and the channel now; pending reads return end-of-stream or fail.</summary>
    void Kill();
}
