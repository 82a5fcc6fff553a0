using System.Reflection;
using Renci.SshNet;

namespace PSReplica.Ssh;

/// <summary>
/// <see cref="ISendWindow"/> for an SSH.NET exec channel. SSH.NET keeps the window and its adjust messages to itself,
/// so they are read through its non-public members (the channel's RemoteWindowSize, the session's
/// ChannelWindowAdjustReceived event); <see cref="For"/> gives null when this SSH.NET has none of them, and the writer
/// then goes on without (a short packet at each edge of the window, as before). SshExecChannelTests checks that the
/// pinned SSH.NET has them.
/// </summary>
internal sealed class SshChannelWindow : ISendWindow, IDisposable
{
    private const BindingFlags Members = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    private readonly Func<uint> _remoteWindow;
    private readonly EventInfo _adjusted;
    private readonly object _session;
    private readonly Delegate _handler;
    private readonly AutoResetEvent _grew = new(initialState: false);
    private int _disposed;

    private SshChannelWindow(Func<uint> remoteWindow, EventInfo adjusted, object session)
    {
        _remoteWindow = remoteWindow;
        _adjusted = adjusted;
        _session = session;

        // The channel subscribed to the same event when it was made, so by the time this handler runs the window
        // already holds the adjustment. Any channel's adjustment wakes the writer, which then reads its own window.
        _handler = Delegate.CreateDelegate(adjusted.EventHandlerType!, this, typeof(SshChannelWindow).GetMethod(nameof(OnAdjusted), Members)!);
        adjusted.AddEventHandler(session, _handler);
    }

    /// <summary>The window of <paramref name="command"/>'s channel (opened), or null when SSH.NET does not show it.</summary>
    public static SshChannelWindow? For(SshClient client, SshCommand command)
    {
        object? session = typeof(BaseClient).GetProperty("Session", Members)?.GetValue(client);
        object? channel = typeof(SshCommand).GetField("_channel", Members)?.GetValue(command);
        MethodInfo? getter = channel?.GetType().GetProperty("RemoteWindowSize", Members)?.GetMethod;
        EventInfo? adjusted = session?.GetType().GetEvent("ChannelWindowAdjustReceived", Members);
        if (session is null || channel is null || getter is null || getter.ReturnType != typeof(uint) || adjusted?.EventHandlerType is null)
        {
            return null;
        }

        return new SshChannelWindow((Func<uint>)Delegate.CreateDelegate(typeof(Func<uint>), channel, getter), adjusted, session);
    }

    public long Available
    {
        get
        {
            try
            {
                return _remoteWindow();
            }
            catch (InvalidOperationException)
            {
                // The channel closed: the transport's write reports it.
                return long.MaxValue;
            }
        }
    }

    public bool WaitForGrowth(TimeSpan timeout)
    {
        try
        {
            return _grew.WaitOne(timeout);
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _adjusted.RemoveEventHandler(_session, _handler);
            _grew.Dispose();
        }
    }

    private void OnAdjusted(object? sender, EventArgs e)
    {
        try
        {
            _grew.Set();
        }
        catch (ObjectDisposedException)
        {
            // Raised while the channel was being disposed.
        }
    }
}
