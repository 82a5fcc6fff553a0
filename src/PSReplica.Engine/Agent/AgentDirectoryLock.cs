using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Agent;

/// <summary>Marks an agent as running in its directory, so that pruning the server's agent cache never removes one in
/// use: the agent holds a shared flock(2) on its own directory for its whole life, and the controller's pruning
/// (<c>flock -n -x</c> on the same directory, over the same SSH session) skips a directory whose lock it cannot take.
/// The kernel drops the lock when the process ends, however it ends, so no stale marker is ever left behind, and
/// nothing is created (an installed module's read-only folder is locked just as well, harmlessly).</summary>
public static class AgentDirectoryLock
{
    /// <summary>Takes the lock for this process's life; returns the handle to keep alive (null: not on a Unix, or the
    /// directory could not be opened or locked, which only means pruning cannot see this agent).</summary>
    public static SafeFileHandle? Hold(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        SafeFileHandle? handle = Posix.Open(directory, Posix.ORdOnly, 0, out _);
        if (handle is null)
        {
            return null;
        }

        if (Posix.LockShared(handle) != 0)
        {
            handle.Dispose();
            return null;
        }

        return handle;
    }
}
