"""The emulated USB-serial adapter: a Linux pseudo-terminal, optionally behind a stable symlink.

The emulator keeps the slave end open itself: without a holder, reads on the master fail with
EIO whenever no client has the port open. Closing both ends is what "unplugging" looks like to
a client: its next read or write fails, as when a real adapter vanishes. Reopening makes a new
pty (a new /dev/pts name) and re-points the symlink atomically, as udev would for a replug.
"""
from __future__ import annotations

import errno
import logging
import os
import tty

_log = logging.getLogger(__name__)
_READ_CHUNK = 4096


class LinkError(Exception):
    """The symlink path cannot be used; the message says why and what to do."""


def check_link_path(path: str) -> None:
    """Refuse a link path that would clobber something, or that cannot be created."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise LinkError(f"cannot create {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise LinkError(f"cannot create {path}: directory {directory} is not writable")
    if os.path.lexists(path):
        if not os.path.islink(path):
            raise LinkError(f"{path} exists and is not a symlink; remove it or choose another --link")
        if os.path.exists(path):
            raise LinkError(
                f"{path} already points to {os.readlink(path)}, which exists (another emulator running?); "
                "stop it or choose another --link"
            )
        # A dangling symlink: left behind by an emulator that was killed. Safe to replace.


class PtyPort:
    """One pseudo-terminal pair at a time; `path` is what a client opens."""

    def __init__(self, link: str | None):
        self.link = link
        self.slave_name: str | None = None
        self._master: int | None = None
        self._slave: int | None = None

    @property
    def master_fd(self) -> int | None:
        """The emulator's end, or None while unplugged."""
        return self._master

    @property
    def path(self) -> str | None:
        return self.link or self.slave_name

    def open(self) -> None:
        if self.link:
            check_link_path(self.link)
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
