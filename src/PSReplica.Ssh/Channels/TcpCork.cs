using System.Net.Sockets;

namespace PSReplica.Ssh;

/// <summary>
/// <see cref="ISendBatching"/> through Linux's TCP_CORK on a connected socket. SSH.NET sends every SSH packet (at most
/// the peer's maximum, 32 KiB of data for OpenSSH) with a send call of its own on a socket with TCP_NODELAY, so each
/// left as a TCP segment of its own, with 52 bytes of IP and TCP headers and an ACK for every second one; the loopback's
/// segments (and a fast network's with segmentation offload) hold twice that. Corked, the kernel cuts the stream into
/// full segments and sends a partial one only on release (or after 200 ms, the kernel's ceiling on a cork).
/// </summary>
internal sealed class TcpCork : ISendBatching
{
    private const int IpProtoTcp = 6;
    private const int TcpCorkOption = 3;

    private static readonly byte[] s_on = BitConverter.GetBytes(1);
    private static readonly byte[] s_off = BitConverter.GetBytes(0);

    private readonly Socket _socket;

    private TcpCork(Socket socket) => _socket = socket;

    /// <summary>A cork for <paramref name="socket"/>, or null where the system has none (everywhere but Linux) or the
    /// socket is not TCP.</summary>
    public static TcpCork? For(Socket? socket) =>
        socket is { ProtocolType: ProtocolType.Tcp } && OperatingSystem.IsLinux() ? new TcpCork(socket) : null;

    public void Hold() => Set(s_on);

    public void Release() => Set(s_off);

    private void Set(byte[] value)
    {
        try
        {
            _socket.SetRawSocketOption(IpProtoTcp, TcpCorkOption, value);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The connection is going away: the transport's own write reports it.
        }
    }
}
