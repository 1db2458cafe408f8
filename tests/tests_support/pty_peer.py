"""A scripted peer on a real pseudo-terminal: answers each request with bytes a test chooses.

For wire situations the emulator does not produce on purpose (replies out of order, a stale
reply left in the buffer, noise before a header), so the driver's parser meets them on a real
serial port rather than in a mock.
"""
from __future__ import annotations

import os
import select
import threading
import tty
from typing import Callable


class ScriptedPeer:
    """`respond(request_bytes) -> reply_bytes` is called for every chunk the driver writes."""

    def __init__(self, respond: Callable[[bytes], bytes]):
        self._respond = respond
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="scripted-peer", daemon=True)

    def inject(self, data: bytes) -> None:
        """Write bytes towards the driver now, unasked (e.g. a late reply)."""
        os.write(self._master, data)

    def _serve(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], 0.05)
            if readable:
                request = os.read(self._master, 4096)
                self.requests.append(request)
                reply = self._respond(request)
                if reply:
                    os.write(self._master, reply)

    def __enter__(self) -> ScriptedPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self._master)
        os.close(self._slave)
