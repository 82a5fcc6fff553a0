using System.Runtime.InteropServices;
using static PSReplica.Engine.Native.Posix;

namespace PSReplica.Engine.Native;

/// <summary>inotify(7) and the eventfd that wakes its reader: what the -Watch tree watcher asks of the kernel.</summary>
internal static partial class LinuxCalls
{
    // inotify(7) event bits; the same on every Linux architecture.
    public const uint InModify = 0x2;
    public const uint InAttrib = 0x4;
    public const uint InCloseWrite = 0x8;
    public const uint InMovedFrom = 0x40;
    public const uint InMovedTo = 0x80;
    public const uint InCreate = 0x100;
    public const uint InDelete = 0x200;
    public const uint InDeleteSelf = 0x400;
    public const uint InMoveSelf = 0x800;
    public const uint InUnmount = 0x2000;
    public const uint InQueueOverflow = 0x4000;
    public const uint InIgnored = 0x8000;
    public const uint InOnlyDir = 0x0100_0000;
    public const uint InDontFollow = 0x0200_0000;
    public const uint InExclUnlink = 0x0400_0000;
    public const uint InIsDir = 0x4000_0000;

    /// <summary>sizeof(struct inotify_event) before its name: wd, mask, cookie, len.</summary>
    public const int InotifyEventHeader = 16;

    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    private static partial int InotifyInit1Native(int flags);

    [LibraryImport("libc", EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Custom, StringMarshallingCustomType = typeof(NameMarshaller))]
    private static partial int InotifyAddWatchNative(int fd, string path, uint mask);

    [LibraryImport("libc", EntryPoint = "inotify_rm_watch", SetLastError = true)]
    private static partial int InotifyRmWatchNative(int fd, int wd);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventfdNative(uint initval, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint WriteNative(int fd, byte* buffer, nuint count);

    /// <summary>A non-blocking inotify instance closed on exec (IN_NONBLOCK and IN_CLOEXEC are O_NONBLOCK and O_CLOEXEC).
    /// Null with the errno (EMFILE: the user's max_user_instances is reached).</summary>
    public static SafeFileHandle? InotifyInit(out int errno) => Adopt(InotifyInit1Native(ONonBlock | OCloExec), out errno);

    /// <summary>inotify_add_watch(2): the watch descriptor, or -1 with the errno.</summary>
    public static int InotifyAddWatch(SafeFileHandle inotify, string path, uint mask, out int errno)
    {
        int wd = InotifyAddWatchNative(Descriptor(inotify), path, mask);
        errno = wd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return wd;
    }

    /// <summary>inotify_rm_watch(2): 0 or an errno (EINVAL when the kernel has already dropped the watch).</summary>
    public static int InotifyRemoveWatch(SafeFileHandle inotify, int wd) =>
        InotifyRmWatchNative(Descriptor(inotify), wd) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>A non-blocking eventfd closed on exec (EFD_NONBLOCK and EFD_CLOEXEC are O_NONBLOCK and O_CLOEXEC).</summary>
    public static SafeFileHandle? EventFd(out int errno) => Adopt(EventfdNative(0, ONonBlock | OCloExec), out errno);

    /// <summary>Adds one to an eventfd's counter, which makes it readable. 0 or an errno.</summary>
    public static unsafe int SignalEventFd(SafeFileHandle eventFd)
    {
        ulong one = 1;
        return WriteNative(Descriptor(eventFd), (byte*)&one, sizeof(ulong)) == sizeof(ulong) ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>poll(2) for input on two descriptors, without a timeout: which became readable (or hung up, or failed),
    /// or -errno (EINTR: call again).</summary>
    public static unsafe int PollInputs(SafeFileHandle first, SafeFileHandle second, out bool firstReady, out bool secondReady)
    {
        // struct pollfd { int fd; short events; short revents; }: POLLIN is 1 on every Linux architecture.
        long* entries = stackalloc long[2];
        entries[0] = (uint)Descriptor(first) | (1L << 32);
        entries[1] = (uint)Descriptor(second) | (1L << 32);
        int rc = PollNative(entries, 2, -1);
        firstReady = rc > 0 && (short)(entries[0] >> 48) != 0;
        secondReady = rc > 0 && (short)(entries[1] >> 48) != 0;
        return rc >= 0 ? rc : -Marshal.GetLastPInvokeError();
    }

    private static SafeFileHandle? Adopt(int fd, out int errno)
    {
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return new SafeFileHandle(fd, ownsHandle: true);
    }
}
