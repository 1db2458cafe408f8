"""One ZMQ REQ connection with a deadline on every exchange, and a clean way out.

Upstream's client fixed two traps late or never (docs/reference/gr00t-wire.md §8): before N1.7 its timeout
was stored but never applied, so `recv()` blocked forever when the server was gone; and a
timed-out REQ socket, left open, made `context.term()` block at interpreter exit. Here every
exchange has one deadline (send and reply together), a timed-out socket is closed (linger 0)
and replaced before the error is raised, and the context is closed explicitly — also by a
finalizer, so a forgotten client never hangs the process at exit.
"""
from __future__ import annotations

import math
import time
import weakref

import zmq

from so101_policy.errors import PolicyError, PolicyTimeoutError


class ReqConnection:
    """REQ socket connected to `endpoint`; `exchange` sends one frame and returns the reply frame."""

    def __init__(self, endpoint: str, timeout_s: float):
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._sockets = _Sockets(zmq.Context())
        self._sockets.open(endpoint)
        self._finalizer = weakref.finalize(self, self._sockets.close)

    def exchange(self, message: bytes | memoryview) -> memoryview:
        """The reply to `message`, as a zero-copy view; PolicyTimeoutError past the deadline."""
        if not self._finalizer.alive:
            raise PolicyError(f"the connection to {self.endpoint} is closed")
        deadline = time.monotonic() + self.timeout_s
        socket = self._sockets.socket
        try:
            if not socket.poll(_ms_left(deadline), zmq.POLLOUT):
                self._fail(f"could not send to the policy server at {self.endpoint} within {self.timeout_s:g} s")
            socket.send(message, zmq.NOBLOCK, copy=False)
            if not socket.poll(_ms_left(deadline), zmq.POLLIN):
                self._fail(f"no reply from the policy server at {self.endpoint} within {self.timeout_s:g} s")
            return socket.recv(zmq.NOBLOCK, copy=False).buffer
        except zmq.ZMQError as exc:
            self._sockets.open(self.endpoint)
            raise PolicyError(f"ZMQ error talking to {self.endpoint}: {exc}; the socket was recreated") from exc

    def close(self) -> None:
        """Idempotent; pending messages are dropped (linger 0), so this never blocks."""
        self._finalizer()

    def _fail(self, detail: str) -> None:
        """A REQ socket that missed its reply cannot send again: replace it, then raise."""
        self._sockets.open(self.endpoint)
        raise PolicyTimeoutError(f"{detail}; the socket was recreated")


class _Sockets:
    """The context and current socket, kept apart from ReqConnection so its finalizer can close them."""

    def __init__(self, context: zmq.Context):
        self.context = context
        self.socket: zmq.Socket | None = None

    def open(self, endpoint: str) -> None:
        if self.socket is not None:
            self.socket.close(linger=0)
        self.socket = self.context.socket(zmq.REQ)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close(linger=0)
            self.socket = None
        self.context.term()


def _ms_left(deadline: float) -> int:
    return max(0, math.ceil((deadline - time.monotonic()) * 1000))
