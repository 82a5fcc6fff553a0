"""A read-only FUSE view of a directory whose reads fail with EIO past a byte offset, for the engine's fault tests.

    python3 failing-reads.py BACKING MOUNTPOINT SWITCH OFFSET

Files whose name contains ".eio" give their first OFFSET bytes, and any read that reaches past them fails with EIO,
while the file SWITCH exists; with SWITCH gone they read whole. Everything else is passed through. Runs in the
foreground until unmounted (umount MOUNTPOINT). Needs Debian's python3-fusepy.
"""
import errno
import os
import sys

from fusepy import FUSE, FuseOSError, Operations


class FailingReads(Operations):
    def __init__(self, backing, switch, offset):
        self.backing = backing
        self.switch = switch
        self.offset = offset

    def _full(self, path):
        return os.path.join(self.backing, path.lstrip('/'))

    def getattr(self, path, fh=None):
        st = os.lstat(self._full(path))
        keys = ('st_mode', 'st_ino', 'st_nlink', 'st_uid', 'st_gid', 'st_size', 'st_atime', 'st_mtime', 'st_ctime')
        attributes = {key: getattr(st, key) for key in keys}
        for key in ('st_atime', 'st_mtime', 'st_ctime'):
            attributes[key] = getattr(st, key + '_ns') / 1e9
        return attributes

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._full(path))

    def readlink(self, path):
        return os.readlink(self._full(path))

    def statfs(self, path):
        st = os.statvfs(self._full(path))
        keys = ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files', 'f_flag', 'f_frsize', 'f_namemax')
        return {key: getattr(st, key) for key in keys}

    def open(self, path, flags):
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise FuseOSError(errno.EROFS)
        return os.open(self._full(path), os.O_RDONLY)

    def read(self, path, size, offset, fh):
        if '.eio' in os.path.basename(path) and offset + size > self.offset and os.path.exists(self.switch):
            if offset >= self.offset:
                raise FuseOSError(errno.EIO)
            # A short read up to the offset: the reader gets those bytes, and its next read fails.
            size = self.offset - offset
        return os.pread(fh, size, offset)

    def release(self, path, fh):
        os.close(fh)
        return 0


if __name__ == '__main__':
    backing, mountpoint, switch, offset = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    # direct_io: every read reaches read() above, none is served from the page cache; use_ino: the backing inodes.
    FUSE(FailingReads(backing, switch, offset), mountpoint, foreground=True, ro=True, direct_io=True, use_ino=True, nothreads=True)
