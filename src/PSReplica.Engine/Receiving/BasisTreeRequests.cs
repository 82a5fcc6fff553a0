using System.Buffers;
using PSReplica.Engine.Agent;
using PSReplica.Engine.Execution;
using PSReplica.Engine.Native;
using PSReplica.Engine.Protocol;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Receiving;

/// <summary>The agent's side of the "trees" capability: basis directories (-LinkDest, -CompareDest, -CopyDest) on the
/// receiver, backups (-Backup), hard-link groups (-Preserve HardLinks) and source removal (-RemoveSourceFiles). Every
/// item is reached by a <see cref="SafeTree"/> walk from its tree's descriptor; links are made with linkat, which never
/// follows a final link, into a temp name that is checked and renamed into place.</summary>
internal static class BasisTreeRequests
{
    private const int OwnerAccess = 0x1C0;

    /// <param name="delayed">With -DelayUpdates, where files copied or linked into the destination wait for the burst.</param>
    public static async Task<byte[]> RunAsync(SafeTree tree, BasisTrees trees, MuxStream stream, AgentRequest request, CancellationToken cancellation,
        DelayedRenames? delayed = null)
    {
        switch (request.Type)
        {
            case RequestType.OpenTree:
                return Open(tree, trees, request);
            case RequestType.ListTree:
                await ListingProducer.WriteAsync(trees.Get(request.Index), stream, request.Path, request.Flag, cancellation).ConfigureAwait(false);
                return [];
            case RequestType.LinkFromTree:
                return LinkFromTree(tree, trees.Get(request.Index), request, delayed, cancellation);
            case RequestType.LinkSymlinkFromTree:
                return LinkSymlinkFromTree(tree, trees.Get(request.Index), request);
            case RequestType.CopyFromTree:
                long copied = CopyIn(trees.Get(request.Index), request.Path, tree, request, cancellation, delayed);
                return TreeReceiver.Result(copied, 0, copied);
            case RequestType.TreeSignature:
                return TreeReceiver.BuildSignature(trees.Get(request.Index), stream, request, cancellation);
            case RequestType.ApplyTreeDelta:
                return TreeReceiver.ApplyDelta(tree, trees.Get(request.Index), stream, request, cancellation, delayed);
            case RequestType.Backup:
                return Backup(tree, request.Index == AgentRequest.NoTree ? null : trees.Get(request.Index), request, cancellation);
            case RequestType.LinkWithin:
                return LinkWithin(tree, request, delayed);
            case RequestType.RemoveSource:
                return RemoveSource(tree, request);
            case RequestType.DescribeCopy:
                return DescribeCopy(tree, request, cancellation);
            case RequestType.DescribeTreeCopy:
                return DescribeCopy(trees.Get(request.Index), request, cancellation);
            case RequestType.DescribeFileSystem:
                return DescribeFileSystem(tree, request);
            case RequestType.MoveWithin:
                return MoveWithin(tree, request, delayed);
            default:
                throw ProtocolFault.Violation($"an unknown request type {request.Type}");
        }
    }

    private static byte[] Open(SafeTree tree, BasisTrees trees, AgentRequest request)
    {
        ListingEntry? entry = trees.Open(tree, request.Index, request.Path);
        using var end = new WireWriter(64);
        end.Byte(entry is null ? (byte)0 : (byte)1);
        entry?.Write(end);
        return end.Written.ToArray();
    }

    /// <summary>-LinkDest: a hard link to the basis file. Where the filesystem refuses (another filesystem, EMLINK, no hard
    /// links) the file is copied instead; the answer says which (1 linked, or 0 and the errno), then the length.</summary>
    private static byte[] LinkFromTree(SafeTree tree, SafeTree basisTree, AgentRequest request, DelayedRenames? delayed, CancellationToken cancellation)
    {
        int errno = Link(basisTree, request.Path, tree, request.Path, out long length);
        using var end = new WireWriter(32);
        if (errno == 0)
        {
            end.Byte(1).UInt(0).UInt((ulong)length);
            return end.Written.ToArray();
        }

        if (!IsLinkRefusal(errno))
        {
            throw SafeTree.Failure(errno, ErrorIds.FileWriteError, "Cannot create the hard link", request.Path);
        }

        long copied = CopyIn(basisTree, request.Path, tree, request, cancellation, delayed);
        end.Byte(0).UInt((uint)errno).UInt((ulong)copied);
        return end.Written.ToArray();
    }

    /// <summary>-LinkDest for a symbolic link (capability "link-symlinks"): a hard link to the basis's link, which must
    /// still point to Other. Where the filesystem refuses the link, the link is made anew (Other, with the request's
    /// attributes); the answer is as LinkFromTree's, its length 0.</summary>
    private static byte[] LinkSymlinkFromTree(SafeTree tree, SafeTree basisTree, AgentRequest request)
    {
        int errno = LinkSymlink(basisTree, request.Path, tree, request.Path, request.Other);
        using var end = new WireWriter(16);
        if (errno == 0)
        {
            end.Byte(1).UInt(0).UInt(0);
            return end.Written.ToArray();
        }

        if (!IsLinkRefusal(errno))
        {
            throw SafeTree.Failure(errno, ErrorIds.SymbolicLinkFailed, "Cannot create the hard link", request.Path);
        }

        TreeReceiver.CreateSymbolicLink(tree, request.Path, request.Other, request.Attributes);
        end.Byte(0).UInt((uint)errno).UInt(0);
        return end.Written.ToArray();
    }

    /// <summary>Whether a link(2) failure means only that the filesystem will not make this link (another filesystem, too
    /// many links, no hard links), so the item is made another way.</summary>
    internal static bool IsLinkRefusal(int errno) => errno is Posix.EXDEV or Posix.EMLINK or Posix.EPERM or Posix.EOPNOTSUPP;

    /// <summary>Hard-links the symbolic link <paramref name="from"/> of <paramref name="fromTree"/> (linkat never follows
    /// it) as <paramref name="to"/>: under its own name where that is free, else under a temp name renamed into place;
    /// what was linked is checked, before it stays, to be a symbolic link to <paramref name="target"/> (not another item
    /// swapped in after the scan). Returns 0 or the errno of a link the filesystem refused.</summary>
    internal static int LinkSymlink(SafeTree fromTree, string from, SafeTree tree, string to, string target)
    {
        using ParentDirectory source = fromTree.OpenParent(from);
        int found = Posix.StatAt(source.Handle, source.Name, out StatInfo before);
        if (found != 0)
        {
            throw SafeTree.Failure(found, ErrorIds.FileReadError, "Cannot read", from);
        }

        using ParentDirectory destination = tree.OpenParent(to);
        return LinkChecked(source, destination, from, to, name => IsLinkTo(destination, name, target), before.Device, before.Inode,
            newName: true, delayed: null);
    }

    /// <summary>Whether <paramref name="name"/> in the directory is a symbolic link to <paramref name="target"/>.</summary>
    private static bool IsLinkTo(ParentDirectory directory, string name, string target) =>
        Posix.StatAt(directory.Handle, name, out StatInfo linked) == 0 && linked.FileType == Posix.SIflnk
        && string.Equals(Posix.ReadLinkAt(directory.Handle, name, out _), target, StringComparison.Ordinal);

    /// <summary>-Preserve HardLinks: links the group's first name (already written) as this name. With -DelayUpdates
    /// the first name's new content may still wait for the burst: the link is made to it there and waits along with it.</summary>
    private static byte[] LinkWithin(SafeTree tree, AgentRequest request, DelayedRenames? delayed)
    {
        LinkWithin(tree, request.Path, request.Other, delayed);
        return [];
    }

    /// <summary>-Watch: moves the directory at Path to Other, as its source was renamed (<see cref="SafeTree.MoveDirectory"/>:
    /// walks that follow no link, nothing at the new name replaced). The answer is 0 or the errno that kept it from moving;
    /// a link on the way fails the request (UnsafePath). While -DelayUpdates files wait at or below either name, the move
    /// is refused with EBUSY: their paths would name places that moved, so the burst would miss them and leave their
    /// temp files behind in the moved directory.</summary>
    private static byte[] MoveWithin(SafeTree tree, AgentRequest request, DelayedRenames? delayed)
    {
        int errno = delayed is not null && (delayed.HoldsAtOrBelow(request.Path) || delayed.HoldsAtOrBelow(request.Other))
            ? Posix.EBUSY
            : tree.MoveDirectory(request.Path, request.Other);
        using var end = new WireWriter(8);
        end.UInt((uint)errno);
        return end.Written.ToArray();
    }

    /// <summary>Links <paramref name="existing"/> (the group's first name, already written) as <paramref name="relative"/>.</summary>
    internal static void LinkWithin(SafeTree tree, string relative, string existing, DelayedRenames? delayed)
    {
        string? waiting = delayed?.WaitingPathOf(existing);
        int errno = Link(tree, waiting ?? existing, tree, relative, out _, waiting is null ? null : delayed);
        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.FileWriteError, "Cannot create the hard link", relative);
        }
    }

    /// <summary>Links the regular file <paramref name="from"/> of <paramref name="fromTree"/> as <paramref name="to"/>
    /// through a temp name, checked to be that same regular file (not a link swapped in) before it is renamed into
    /// place. Returns 0 or the errno of a link the filesystem refused.</summary>
    internal static int Link(SafeTree fromTree, string from, SafeTree tree, string to, out long length, DelayedRenames? delayed = null,
        FileEntry? scanned = null)
    {
        using ParentDirectory source = fromTree.OpenParent(from);
        ulong device;
        ulong inode;
        if (scanned is not null)
        {
            // The planner saw this regular file; what is linked is checked against it below, so no stat before.
            (device, inode, length) = (scanned.Device, scanned.Inode, scanned.Length);
        }
        else
        {
            int found = Posix.StatAt(source.Handle, source.Name, out StatInfo before);
            if (found != 0)
            {
                throw SafeTree.Failure(found, ErrorIds.FileReadError, "Cannot read", from);
            }

            if (before.FileType != Posix.SIfreg)
            {
                throw new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, $"'{from}' is not a regular file.", from);
            }

            (device, inode, length) = (before.Device, before.Inode, before.Size);
        }

        using ParentDirectory target = tree.OpenParent(to);
        // A new name (a snapshot's unchanged file) is linked under its own name at once, with no stat before; one that
        // exists after all goes the temp-and-rename way.
        return LinkChecked(source, target, from, to, name => IsSame(target, name, device, inode), device, inode,
            newName: scanned is not null && delayed is null, delayed);
    }

    /// <summary>Links <paramref name="source"/>'s item as <paramref name="target"/>'s name and keeps the link only when
    /// <paramref name="isExpected"/> says what was linked is the item planned for (a link never follows a final link, and
    /// an item swapped in since the scan is not kept: FileReadError). With <paramref name="newName"/>, first under the name
    /// itself (taken back if it is not the item); otherwise, or where the name exists, under a temp name renamed over it
    /// (or, with <paramref name="delayed"/>, left waiting for the burst), unless the name already is that item
    /// (<paramref name="device"/>, <paramref name="inode"/>): rename(2) between two names of one inode does nothing, and
    /// would leave the temp name. Returns 0 or the errno of a link the filesystem refused.</summary>
    private static int LinkChecked(ParentDirectory source, ParentDirectory target, string from, string to, Func<string, bool> isExpected,
        ulong device, ulong inode, bool newName, DelayedRenames? delayed)
    {
        int errno;
        if (newName)
        {
            errno = Posix.LinkAt(source.Handle, source.Name, target.Handle, target.Name);
            if (errno == 0)
            {
                if (!isExpected(target.Name))
                {
                    Posix.UnlinkAt(target.Handle, target.Name, isDirectory: false);
                    throw ChangedWhileLinked(from);
                }

                return 0;
            }

            if (errno != Posix.EEXIST)
            {
                return errno;
            }
        }

        if (Posix.TracksIdentity && Posix.StatAt(target.Handle, target.Name, out StatInfo current) == 0
            && current.Inode == inode && current.Device == device)
        {
            // (Checked here, not before a new name's link above: a snapshot's links pay no stat.)
            return 0;
        }

        string temp = PendingFile.TempName(target.Name);
        errno = Posix.LinkAt(source.Handle, source.Name, target.Handle, temp);
        if (errno != 0)
        {
            return errno;
        }

        try
        {
            if (!isExpected(temp))
            {
                throw ChangedWhileLinked(from);
            }

            if (delayed is not null)
            {
                delayed.Add(DelayedRenames.Beside(to, temp), to);
                return 0;
            }

            TreeReceiver.Rename(target, temp, to);
        }
        catch
        {
            Posix.UnlinkAt(target.Handle, temp, isDirectory: false);
            throw;
        }

        return 0;
    }

    private static SyncException ChangedWhileLinked(string from) =>
        new(ErrorIds.FileReadError, SyncErrorKind.ReadError, $"'{from}' changed while it was being linked.", from);

    /// <summary>Whether <paramref name="name"/> in the directory is the regular file with that identity (where the backend
    /// tracks identities: the portable one can only see that it is a regular file).</summary>
    private static bool IsSame(ParentDirectory directory, string name, ulong device, ulong inode) =>
        Posix.StatAt(directory.Handle, name, out StatInfo linked) == 0 && linked.FileType == Posix.SIfreg
        && (!Posix.TracksIdentity || (linked.Inode == inode && linked.Device == device));

    /// <summary>Copies the regular file <paramref name="from"/> of <paramref name="fromTree"/> into a temp file beside
    /// the request's path, applies the request's attributes and renames it into place.</summary>
    private static long CopyIn(SafeTree fromTree, string from, SafeTree tree, AgentRequest request, CancellationToken cancellation,
        DelayedRenames? delayed = null)
    {
        using SafeFileHandle input = fromTree.OpenRegularFile(from, ErrorIds.FileReadError, out _);
        using PendingFile pending = PendingFile.Beside(tree, request.Path);
        long length = tree.Sparse ? FileCopier.CopyContent(input, pending.Handle, null, cancellation, sparse: true) : CopyContent(input, pending.Handle, cancellation);
        TreeReceiver.Finish(pending, request.Attributes, delayed);
        return length;
    }

    private static long CopyContent(SafeFileHandle input, SafeFileHandle output, CancellationToken cancellation)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 17);
        try
        {
            long offset = 0;
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = RandomAccess.Read(input, buffer, offset);
                if (n == 0)
                {
                    return offset;
                }

                RandomAccess.Write(output, buffer.AsSpan(0, n), offset);
                offset += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>-Backup: keeps the file or link at the request's path under its backup name (beside it with the suffix,
    /// or at its relative path in the backup tree), replacing an older backup. The item itself stays until the write or
    /// deletion that follows replaces it, so a failed transfer leaves it in place: the backup is a hard link to it, or a
    /// copy where the backup tree is on another filesystem. A missing item or a directory has nothing to back up.</summary>
    private static byte[] Backup(SafeTree tree, SafeTree? backupTree, AgentRequest request, CancellationToken cancellation)
    {
        Backup(tree, backupTree, request.Path, request.Other, copy: false, cancellation);
        return [];
    }

    /// <summary>As the Backup request, for <paramref name="relative"/> with <paramref name="suffix"/>; with
    /// <paramref name="copy"/> the backup is always a copy (-Inplace rewrites the file's own inode, which a hard link would share).</summary>
    internal static void Backup(SafeTree tree, SafeTree? backupTree, string relative, string suffix, bool copy, CancellationToken cancellation)
    {
        using ParentDirectory item = tree.OpenParent(relative);
        int errno = Posix.StatAt(item.Handle, item.Name, out StatInfo stat);
        if (errno == Posix.ENOENT || (errno == 0 && stat.FileType is not (Posix.SIfreg or Posix.SIflnk or Posix.SIfifo or Posix.SIfsock
            or Posix.SIfblk or Posix.SIfchr)))
        {
            return;
        }

        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.BackupFailed, "Cannot read", relative);
        }

        string name = item.Name + suffix;
        using ParentDirectory place = backupTree is null
            ? new ParentDirectory(item.Handle, name, owned: false)
            : OpenCreating(backupTree, relative, name, tree);
        string temp = PendingFile.TempName(name);
        errno = copy ? Posix.EXDEV : Posix.LinkAt(item.Handle, item.Name, place.Handle, temp);
        try
        {
            if (errno is Posix.EXDEV or Posix.EMLINK or Posix.EPERM or Posix.EOPNOTSUPP)
            {
                errno = CopyAside(item, stat, place.Handle, temp, cancellation);
            }

            if (errno != 0)
            {
                throw SafeTree.Failure(errno, ErrorIds.BackupFailed, "Cannot back up", relative);
            }

            errno = Posix.RenameAt(place.Handle, temp, name);
            if (errno != 0)
            {
                throw SafeTree.Failure(errno, ErrorIds.BackupFailed, "Cannot move the backup of", relative);
            }
        }
        catch
        {
            Posix.UnlinkAt(place.Handle, temp, isDirectory: false);
            throw;
        }
    }

    /// <summary>A copy of the item (content, mode and time of a file; the target of a link; a device, FIFO or socket made
    /// anew, never opened) as <paramref name="temp"/>.</summary>
    private static int CopyAside(ParentDirectory item, StatInfo stat, SafeFileHandle directory, string temp, CancellationToken cancellation)
    {
        if (stat.FileType == Posix.SIflnk)
        {
            string? target = Posix.ReadLinkAt(item.Handle, item.Name, out int errno);
            return target is null ? errno : Posix.SymlinkAt(target, directory, temp);
        }

        if (stat.FileType != Posix.SIfreg)
        {
            return Posix.MknodAt(directory, temp, stat.Mode, stat.Rdev);
        }

        SafeFileHandle? input = Posix.OpenAt(item.Handle, item.Name, Posix.ORdOnly | Posix.ONoFollow | Posix.ONonBlock, 0, out int openErrno);
        if (input is null)
        {
            return openErrno;
        }

        using (input)
        {
            SafeFileHandle? output = Posix.OpenAt(directory, temp, Posix.OWrOnly | Posix.OCreat | Posix.OExcl | Posix.ONoFollow, 0x180, out int errno);
            if (output is null)
            {
                return errno;
            }

            using (output)
            {
                CopyContent(input, output, cancellation);
                errno = Posix.Fchmod(output, stat.Mode & 0xFFF);
                return errno != 0 ? errno : Posix.SetModificationTime(output, stat.MtimeSeconds, stat.MtimeNanoseconds);
            }
        }
    }

    /// <summary>The directory in <paramref name="tree"/> that holds <paramref name="relative"/>, made (with the tree's root)
    /// where missing; each component is created with mkdirat and opened with O_NOFOLLOW, so a link is never entered. A
    /// directory made below the root takes the mode and (as root) the owner of <paramref name="destination"/>'s directory
    /// of that path, as rsync's backup directories do.</summary>
    private static ParentDirectory OpenCreating(SafeTree tree, string relative, string name, SafeTree destination)
    {
        if (tree.DescribeRoot(ErrorIds.BackupFailed) is null)
        {
            tree.CreateRoot();
        }

        int slash = relative.LastIndexOf('/');
        using ParentDirectory root = tree.OpenDirectory(string.Empty);
        if (slash < 0)
        {
            return new ParentDirectory(Posix.OpenAt(root.Handle, ".", Posix.OPath | Posix.ODirectory, 0, out int rootErrno)
                ?? throw SafeTree.Failure(rootErrno, ErrorIds.BackupFailed, "Cannot open the backup directory for", relative), name, owned: true);
        }

        SafeFileHandle? current = null;
        try
        {
            int end = -1;
            while (end < slash)
            {
                int start = end + 1;
                end = relative.IndexOf('/', start);
                string component = relative[start..end];
                SafeFileHandle from = current ?? root.Handle;
                // As a local mkdir -p makes them (the umask applies); the replaced directory's mode follows.
                int errno = Posix.MkdirAt(from, component, 0x1FF);
                if (errno is not (0 or Posix.EEXIST))
                {
                    throw SafeTree.Failure(errno, ErrorIds.BackupFailed, "Cannot create the backup directory for", relative);
                }

                bool made = errno == 0;
                SafeFileHandle next = Posix.OpenAt(from, component, Posix.OPath | Posix.ODirectory | Posix.ONoFollow, 0, out errno)
                    ?? throw (errno is Posix.ELOOP or Posix.ENOTDIR
                        ? ProtocolFault.UnsafePath(relative, "the backup directory holds a link or a file on the way")
                        : SafeTree.Failure(errno, ErrorIds.BackupFailed, "Cannot open the backup directory for", relative));
                current?.Dispose();
                current = next;
                if (made)
                {
                    TakeAttributesOf(destination, relative[..end], current);
                }
            }

            return new ParentDirectory(current!, name, owned: true);
        }
        catch
        {
            current?.Dispose();
            throw;
        }
    }

    /// <summary>Gives a backup directory just made the mode and, as root, the owner and group of the destination's directory
    /// of the same path (reached without following a link); where that cannot be read, the directory keeps what mkdir gave.</summary>
    private static void TakeAttributesOf(SafeTree destination, string relative, SafeFileHandle made)
    {
        StatInfo original;
        try
        {
            using ParentDirectory directory = destination.OpenDirectory(relative);
            if (Posix.StatAt(directory.Handle, string.Empty, out original) != 0)
            {
                return;
            }
        }
        catch (SyncException)
        {
            return;
        }

        if (Posix.IsElevated)
        {
            _ = Posix.ChownHandle(made, original.Uid, original.Gid);
        }

        // After chown, which clears set-user-ID and set-group-ID bits.
        _ = Posix.ChmodHandle(made, original.Mode & 0xFFF);
    }

    /// <summary>-RemoveSourceFiles on a remote source: removes the file, link or node, but only while it is what was listed
    /// (a regular file of that length and time, a link of that time, or a node of that type, device number and time);
    /// anything else is refused and kept.</summary>
    private static byte[] RemoveSource(SafeTree tree, AgentRequest request)
    {
        using ParentDirectory parent = tree.OpenOwnParent(request.Path);
        int errno = Posix.StatAt(parent.Handle, parent.Name, out StatInfo stat);
        if (errno == Posix.ENOENT)
        {
            return [];
        }

        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.DeleteFailed, "Cannot read", request.Path);
        }

        AttributeSet listed = request.Attributes;
        bool same = stat.MtimeSeconds == listed.MtimeSeconds && stat.MtimeNanoseconds == listed.MtimeNanoseconds
            && (request.NodeType != 0
                ? stat.FileType == request.NodeType && (!stat.IsDevice || stat.Rdev == request.DeviceNumber)
                : stat.FileType == Posix.SIflnk || (stat.FileType == Posix.SIfreg && stat.Size == request.Length));
        if (!same)
        {
            throw new SyncException(ErrorIds.SourceChangedSinceListing, SyncErrorKind.InvalidOperation,
                $"Not removing '{request.Path}' from the source: it changed since it was listed.", request.Path);
        }

        errno = Posix.UnlinkAt(parent.Handle, parent.Name, isDirectory: false);
        return errno is 0 or Posix.ENOENT ? [] : throw SafeTree.Failure(errno, ErrorIds.DeleteFailed, "Cannot remove", request.Path);
    }

    /// <summary>-RemoveSourceFiles on a push: the item at the path as it is now (<c>0</c>: nothing there), a link with its
    /// target, a regular file with the XXH3-128 of its content, read through a descriptor opened without following a link
    /// and checked to be a regular file. The file's attributes are those of that descriptor after the read, so a copy
    /// that changed while it was hashed does not show its old time.</summary>
    private static byte[] DescribeFileSystem(SafeTree tree, AgentRequest request)
    {
        // Opened component by component without following links; any probe goes through this descriptor.
        using ParentDirectory directory = tree.OpenDirectory(request.Path);
        using var writer = new WireWriter();
        FileSystemTraitsCodec.Write(writer, FileSystemProbe.Detect(directory.Handle, request.Flag));
        return writer.WrittenMemory.ToArray();
    }

    private static byte[] DescribeCopy(SafeTree tree, AgentRequest request, CancellationToken cancellation)
    {
        if (Describe(tree, request.Path, cancellation) is not { } entry)
        {
            return [0];
        }

        using var end = new WireWriter(64);
        end.Byte(1);
        entry.Write(end);
        return end.Written.ToArray();
    }

    /// <summary>The item at <paramref name="relative"/> in the tree as it is now (null: nothing there), reached by a walk
    /// that follows no link and not followed itself: a link's target, or a regular file's XXH3-128, hashed through a
    /// descriptor opened without following links and checked to be a regular file. -RemoveSourceFiles verifies a source's
    /// copy by it (an agent's DescribeCopy; a local run's own copies and basis files).</summary>
    /// <exception cref="SyncException">FileReadError, UnsafePath (a link on the way).</exception>
    internal static ListingEntry? Describe(SafeTree tree, string relative, CancellationToken cancellation)
    {
        using ParentDirectory parent = tree.OpenParent(relative);
        int errno = Posix.StatAt(parent.Handle, parent.Name, out StatInfo stat);
        if (errno == Posix.ENOENT)
        {
            return null;
        }

        if (errno != 0)
        {
            throw SafeTree.Failure(errno, ErrorIds.FileReadError, "Cannot read", relative);
        }

        string? target = null;
        UInt128? checksum = null;
        if (stat.FileType == Posix.SIflnk)
        {
            target = Posix.ReadLinkAt(parent.Handle, parent.Name, out errno) ?? throw SafeTree.Failure(errno, ErrorIds.FileReadError, "Cannot read", relative);
        }
        else if (stat.FileType == Posix.SIfreg)
        {
            using SafeFileHandle file = Posix.OpenAt(parent.Handle, parent.Name, Posix.ORdOnly | Posix.ONoFollow | Posix.ONonBlock, 0, out errno)
                ?? throw SafeTree.Failure(errno, ErrorIds.FileReadError, "Cannot open", relative);
            using (var stream = new FileStream(file, FileAccess.Read, 1))
            {
                if (Posix.StatAt(file, string.Empty, out stat) != 0 || stat.FileType != Posix.SIfreg)
                {
                    throw new SyncException(ErrorIds.FileReadError, SyncErrorKind.ReadError, $"'{relative}' is not a regular file.", relative);
                }

                var hash = new System.IO.Hashing.XxHash128();
                byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
                try
                {
                    int read;
                    while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        cancellation.ThrowIfCancellationRequested();
                        hash.Append(buffer.AsSpan(0, read));
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                checksum = hash.GetCurrentHashAsUInt128();

                // Before the stream closes the descriptor.
                errno = Posix.StatAt(file, string.Empty, out stat);
                if (errno != 0)
                {
                    throw SafeTree.Failure(errno, ErrorIds.FileReadError, "Cannot read", relative);
                }
            }
        }

        return new ListingEntry(parent.Name, stat, target) { Checksum = checksum, ListsDeviceNumbers = true };
    }
}
