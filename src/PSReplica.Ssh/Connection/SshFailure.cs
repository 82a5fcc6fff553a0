using System.Net.Sockets;
using Renci.SshNet.Common;

namespace PSReplica.Ssh;

/// <summary>Turns SSH.NET's and the network's exceptions into the module's SyncExceptions, so none of them leaks out.</summary>
internal static class SshFailure
{
    /// <summary>The SyncException for a failure on an established connection, or null for one to leave alone.</summary>
    public static SyncException? Translate(Exception ex, string target)
    {
        return ex switch
        {
            SyncException => null,
            SshOperationTimeoutException => new SyncException(ErrorIds.SshConnectionTimeout, SyncErrorKind.ReadError,
                $"{target}: the SSH server did not answer in time: {ex.Message}", target, ex),
            SshConnectionException or SocketException or ProxyException => new SyncException(ErrorIds.SshConnectionFailed, SyncErrorKind.ReadError,
                $"{target}: the SSH connection failed: {ex.Message}", target, ex),
            SshException => new SyncException(ErrorIds.SshConnectionFailed, SyncErrorKind.ReadError,
                $"{target}: SSH error: {ex.Message}", target, ex),
            ObjectDisposedException => new SyncException(ErrorIds.SshConnectionFailed, SyncErrorKind.ReadError,
                $"{target}: the SSH channel is closed.", target, ex),
            IOException when ex.InnerException is SocketException or SshException => new SyncException(ErrorIds.SshConnectionFailed, SyncErrorKind.ReadError,
                $"{target}: the SSH connection failed: {ex.Message}", target, ex),
            _ => null,
        };
    }
}
