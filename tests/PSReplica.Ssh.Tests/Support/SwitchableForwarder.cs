using System.Net;
using System.Net.Sockets;

namespace PSReplica.Ssh.Tests;

/// <summary>A TCP forwarder to a test sshd that can be switched off, as a laptop leaves its home network: switched off,
/// it cuts every connection through it and shuts each new one at once (the client sees the server vanish mid-session,
/// then fail to answer); switched on, it forwards again.</summary>
internal sealed class SwitchableForwarder : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly object _gate = new();
    private readonly List<Socket> _open = [];
    private readonly Task _accepting;
    private bool _up;
    private long _cutToServer = long.MaxValue;
    private long _cutToClient = long.MaxValue;
    private long _bytesToServer;
    private long _bytesToClient;

    public SwitchableForwarder(int targetPort, bool up = true)
    {
        _targetPort = targetPort;
        _up = up;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The bytes it carried from clients to the server, all connections together.</summary>
    public long BytesToServer => Interlocked.Read(ref _bytesToServer);

    /// <summary>The bytes it carried from the server to clients.</summary>
    public long BytesToClient => Interlocked.Read(ref _bytesToClient);

    /// <summary>How many connections were refused while it was off.</summary>
    public int Refused { get; private set; }

    /// <summary>Cuts every connection through it and refuses new ones until <see cref="Up"/>.</summary>
    public void Down()
    {
        lock (_gate)
        {
            _up = false;
            foreach (Socket socket in _open)
            {
                Cut(socket);
            }

            _open.Clear();
        }
    }

    /// <summary>Cuts the connections (<see cref="Down"/>, and stays down) once the next connection has carried
    /// <paramref name="toServer"/> bytes from the client or <paramref name="toClient"/> bytes from the server: a link that
    /// drops at a chosen point of a session.</summary>
    public void CutAfter(long toServer = long.MaxValue, long toClient = long.MaxValue)
    {
        _cutToServer = toServer;
        _cutToClient = toClient;
    }

    public void Up()
    {
        lock (_gate)
        {
            _up = true;
        }
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            bool up;
            lock (_gate)
            {
                up = _up;
                if (!up)
                {
                    Refused++;
                }
            }

            if (!up)
            {
                Cut(client);
                continue;
            }

            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _targetPort).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                Cut(client);
                server.Dispose();
                continue;
            }

            lock (_gate)
            {
                if (!_up)
                {
                    Cut(client);
                    Cut(server);
                    continue;
                }

                _open.Add(client);
                _open.Add(server);
            }

            _ = PumpAsync(client, server, toServer: true);
            _ = PumpAsync(server, client, toServer: false);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool toServer)
    {
        long cutAfter = toServer ? _cutToServer : _cutToClient;
        byte[] buffer = new byte[64 << 10];
        long carried = 0;
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                if (carried + n >= cutAfter)
                {
                    await to.SendAsync(buffer.AsMemory(0, (int)(cutAfter - carried)), SocketFlags.None).ConfigureAwait(false);
                    Down();
                    return;
                }

                carried += n;
                Interlocked.Add(ref toServer ? ref _bytesToServer : ref _bytesToClient, n);
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            Cut(from);
            Cut(to);
        }
    }

    /// <summary>Closes at once with a reset, as a vanished peer's network does.</summary>
    private static void Cut(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        socket.Dispose();
    }

    public void Dispose()
    {
        Down();
        _listener.Stop();
        _accepting.Wait(TimeSpan.FromSeconds(10));
    }
}
