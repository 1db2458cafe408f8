"""The emulated USB-serial adapter: a Linux pseudo-terminal, optionally behind a stable symlink.

The emulator keeps the slave end open itself: without a holder, reads on the master fail with
EIO whenever no client has the port open. Closing both ends is what "unplugging" looks like to
a client: its next read or write fails, as when a real adapter vanishes. Reopening makes a new
pty (a new /dev/pts name) and re-points the symlink atomically, as udev would for a replug.

A link is owned through a lock file beside it (`<link>.lock`, flock'ed for as long as the
emulator runs, holding its pid): the kernel drops the lock when the owner dies, however it dies.
So a link whose lock is free was left by a killed emulator and is replaced, even when its
/dev/pts name has since been reused by a terminal; a link whose lock is held is refused. A clean
stop removes link and lock file; a claimer that locked a lock file deleted meanwhile notices (the
path no longer names the file it locked) and claims again.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import tty

_log = logging.getLogger(__name__)
_READ_CHUNK = 4096
LOCK_SUFFIX = ".lock"
ANOTHER_LINK = (
    "give this bus another link: `so101-bus-emulator --link PATH`, or for an emulated graph another folder "
    "(`so101 run ... --emulator-dir DIR`, `ros2 launch ... emulator_dir:=DIR`)"
)
"""What to do about a link that cannot be used, in the flags of every command that creates one."""


class LinkError(Exception):
    """The symlink path cannot be used; the message says why and what to do."""


def check_link_path(path: str) -> None:
    """Refuse a link path that would clobber something, or that cannot be created."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise LinkError(f"cannot create {path}: directory {directory} does not exist; {ANOTHER_LINK}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise LinkError(f"cannot create {path}: directory {directory} is not writable; {ANOTHER_LINK}")
    if os.path.lexists(path) and not os.path.islink(path):
        raise LinkError(f"{path} exists and is not a symlink; remove it, or {ANOTHER_LINK}")


def claim_link(path: str) -> int:
    """Take the link's lock (its descriptor, to keep open while serving); LinkError if another emulator holds it.

    A symlink already at `path` whose lock is free is stale (its emulator was killed) and will be replaced.
    """
    check_link_path(path)
    lock_path = path + LOCK_SUFFIX
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise LinkError(f"cannot create the lock file {lock_path}: {exc.strerror}; {ANOTHER_LINK}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LinkError(
                f"{path} is served by another running emulator (process {owner}); stop it, or {ANOTHER_LINK}"
            ) from None
        if _names(lock_path, fd):
            break
        os.close(fd)  # its owner removed it while we waited for the lock: claim the new one
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    if os.path.islink(path):
        _log.warning("replacing %s -> %s, left by an emulator that was killed", path, os.readlink(path))
    return fd


def _names(path: str, fd: int) -> bool:
    """Whether `path` still names the file open as `fd`."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


class PtyPort:
    """One pseudo-terminal pair at a time; `path` is what a client opens."""

    def __init__(self, link: str | None):
        self.link = link
        self.slave_name: str | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._lock: int | None = None  # the link's lock (claim_link), held from open() to release()

    @property
    def master_fd(self) -> int | None:
        """The emulator's end, or None while unplugged."""
        return self._master

    @property
    def path(self) -> str | None:
        return self.link or self.slave_name

    def open(self) -> None:
        if self.link and self._lock is None:
            self._lock = claim_link(self.link)
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.slave_name = os.ttyname(slave)
        if self.link:
            temporary = f"{self.link}.{os.getpid()}.tmp"
            os.symlink(self.slave_name, temporary)
            os.replace(temporary, self.link)
        _log.debug("pty %s open%s", self.slave_name, f" behind {self.link}" if self.link else "")

    def close(self) -> None:
        """Close both ends and remove the link if it is still ours."""
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        if self.link and os.path.islink(self.link) and os.readlink(self.link) == self.slave_name:
            os.unlink(self.link)

    def release(self) -> None:
        """Close (if open) and give up the link for good (an unplugged port keeps its claim)."""
        self.close()
        if self._lock is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link + LOCK_SUFFIX)  # while still holding the lock (see the module doc)
            os.close(self._lock)
            self._lock = None

    def client_attached(self) -> bool:
        """Whether a client holds the port open with an exclusive lock (as FeetechBus and pyserial's
        exclusive=True do: flock on its own descriptor of the pty, which conflicts with ours)."""
        if self._slave is None:
            return False
        try:
            fcntl.flock(self._slave, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self._slave, fcntl.LOCK_UN)
        return False

    def read(self) -> bytes:
        """What the client wrote so far (empty if nothing is pending)."""
        assert self._master is not None, "read on an unplugged port"
        try:
            return os.read(self._master, _READ_CHUNK)
        except BlockingIOError:
            return b""

    def write(self, data: bytes) -> bool:
        """Send to the client; False if its input buffer is full (the client is not reading)."""
        assert self._master is not None, "write on an unplugged port"
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except OSError as error:
                if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return False
                raise
            view = view[written:]
        return True
