using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Receiving;

/// <summary>Devices, FIFOs and sockets (-Preserve Devices, Specials): made by mknodat in the parent's descriptor under a
/// temp name, given their owner, mode and time through an O_PATH descriptor of exactly what was made (never opened for
/// reading or writing: a FIFO would wait for a peer, and has no content to replicate anyway), then renamed over the
/// target in one step, as links are.</summary>
internal static partial class TreeReceiver
{
    /// <summary>Owner read and write: what a node has until its own mode is set (after its owner, which clears set-id bits).</summary>
    private const int NodeCreationMode = 0x180;

    public static byte[] CreateNode(SafeTree tree, AgentRequest request)
    {
        CreateNode(tree, request.Path, request.NodeType, request.DeviceNumber, request.Attributes);
        return [];
    }

    /// <summary>Makes the node <paramref name="relative"/>: <paramref name="fileType"/> is its S_IFMT bits (a block or
    /// character device, a FIFO or a socket), <paramref name="rdev"/> a device's number (<see cref="StatInfo.Rdev"/>).</summary>
    /// <exception cref="SyncException">SpecialFileFailed (a device without the right to make it: not root, or no
    /// CAP_MKNOD), MetadataFailed, FileWriteError.</exception>
    public static void CreateNode(SafeTree tree, string relative, int fileType, ulong rdev, AttributeSet attributes)
    {
        if (fileType is not (Posix.SIfblk or Posix.SIfchr or Posix.SIfifo or Posix.SIfsock))
        {
            throw new ArgumentOutOfRangeException(nameof(fileType), fileType, "Not a device, FIFO or socket.");
        }

        MakeUnderTempName(tree, relative, ErrorIds.SpecialFileFailed, "Cannot create",
            (directory, temp) => Posix.MknodAt(directory, temp, fileType | NodeCreationMode, fileType is Posix.SIfblk or Posix.SIfchr ? rdev : 0),
            errno => NodeFailure(errno, fileType, rdev, relative),
            (parent, temp) =>
            {
                CheckMade(parent, temp, fileType, relative);
                SetAttributes(new ParentDirectory(parent.Handle, temp, owned: false), attributes, relative);
            });
    }

    /// <summary>The temp name holds the node just made (mknodat never follows nor replaces a name, so only another process
    /// racing on the temp name could change it: then nothing is applied to what it put there).</summary>
    private static void CheckMade(ParentDirectory parent, string temp, int fileType, string relative)
    {
        int errno = Posix.StatAt(parent.Handle, temp, out StatInfo made);
        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.SpecialFileFailed, "Cannot read the new", relative);
        }

        if (made.FileType != fileType)
        {
            throw new SyncException(ErrorIds.SpecialFileFailed, SyncErrorKind.WriteError,
                $"Cannot create '{relative}': its temporary name was replaced while it was being made.", relative);
        }
    }

    private static SyncException NodeFailure(int errno, int fileType, ulong rdev, string relative)
    {
        bool device = fileType is Posix.SIfblk or Posix.SIfchr;
        if (device && errno == Posix.EPERM)
        {
            // rsync, not run as root at the destination, skips devices without a word; here it is said, item by item.
            return new SyncException(ErrorIds.SpecialFileFailed, SyncErrorKind.PermissionDenied,
                $"Cannot create the {(fileType == Posix.SIfblk ? "block" : "character")} device '{relative}' ({rdev >> 32},{rdev & 0xFFFF_FFFF}): "
                + "making devices needs root (CAP_MKNOD) at the destination. rsync, run as a user, skips devices; leave out -Preserve Devices to do so too.",
                relative);
        }

        return SafeTree.Failure(errno, ErrorIds.SpecialFileFailed, "Cannot create", relative);
    }
}
