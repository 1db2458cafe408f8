"""StreamingDriver: runs ChunkScheduler's requests on a worker thread, off the control thread.

The control thread calls tick() at the control rate and gets a target at once: the scheduler
is only ever held under a short lock, and the slow part (observe, encode, the network round
trip, decode) happens on the worker, one request at a time, as REQ/REP requires. Every failure
is reported to the scheduler under a reason (failed_timeout, failed_server_error, ...; a reply
that is no valid chunk as rejected_<kind>) and the worker lives on, so streaming resumes as soon
as the server answers again. A reply to a request sent before the last reset() (an episode
boundary, a takeover) is dropped: it continues a plan that no longer exists.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Protocol

import numpy as np

from so101_policy.errors import (
    BadActionError,
    ObservationError,
    PolicyError,
    PolicyServerError,
    PolicyTimeoutError,
    ProtocolMismatchError,
)
from so101_policy.streaming.rtc import RtcPrefix
from so101_policy.streaming.scheduler import AcceptedChunk, ChunkReply, ChunkScheduler, Tick

log = logging.getLogger(__name__)


PrefixAt = Callable[[float], RtcPrefix | None]
"""The RTC prefix for an observation taken at a time (ChunkScheduler.rtc_prefix, under the driver's lock)."""


class ChunkSource(Protocol):
    def __call__(self, prefix_at: PrefixAt) -> ChunkReply:
        """Observe, ask the policy (with an RTC prefix from `prefix_at` if it uses RTC), decode. Raises PolicyError."""
        ...


_FAILURE_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (PolicyTimeoutError, "timeout"),
    (PolicyServerError, "server_error"),
    (ProtocolMismatchError, "protocol_mismatch"),
    (ObservationError, "observation"),
    (PolicyError, "policy_error"),
)


class StreamingDriver:
    """start(), then tick() from the control loop; stop() (or the context manager) when done."""

    def __init__(self, scheduler: ChunkScheduler, source: ChunkSource, clock: Callable[[], float] = time.monotonic):
        self.scheduler = scheduler
        self._source = source
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._busy = False
        self._last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="policy-chunk-requests", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float | None = None) -> None:
        """End the worker; a request in progress finishes first (bounded by the client's timeout)."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def __enter__(self) -> StreamingDriver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def tick(self, now: float | None = None) -> Tick:
        """The target for this control tick; wakes the worker when a chunk should be requested."""
        now = self._clock() if now is None else now
        with self._lock:
            tick = self.scheduler.tick(now)
            if not self._busy and self.scheduler.should_request(now):
                self.scheduler.on_request_sent(now)
                self._busy = True
                self._wake.set()
        return tick

    def reset(self, present: np.ndarray | None = None) -> None:
        with self._lock:
            self.scheduler.reset(present)

    @property
    def counters(self) -> dict[str, int]:
        with self._lock:
            return self.scheduler.counters

    def take_accepted(self) -> list[AcceptedChunk]:
        """The chunks merged into the plan since the last call (ChunkScheduler.take_accepted)."""
        with self._lock:
            return self.scheduler.take_accepted()

    @property
    def alive(self) -> bool:
        """The worker thread is running (for /diagnostics)."""
        return self._thread.is_alive()

    @property
    def last_error(self) -> str | None:
        """The most recent failure's message, for /diagnostics."""
        return self._last_error

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping.is_set():
                return
            self._request_once()

    def _request_once(self) -> None:
        with self._lock:
            epoch = self.scheduler.epoch
        outcome: Callable[[float], object]
        try:
            reply = self._source(self._prefix_at)
            outcome = partial(self.scheduler.on_chunk, reply)
        except BadActionError as exc:
            self._last_error = str(exc)
            outcome = partial(self.scheduler.on_rejected, kind=exc.kind)
        except Exception as exc:
            reason = next((name for kind, name in _FAILURE_REASONS if isinstance(exc, kind)), "error")
            if reason == "error":
                log.exception("unexpected failure while requesting an action chunk")
            self._last_error = f"{reason}: {exc}"
            outcome = partial(self.scheduler.on_failure, reason=reason)
        with self._lock:
            if self.scheduler.epoch == epoch:
                outcome(self._clock())
            else:
                self.scheduler.on_superseded()
            self._busy = False

    def _prefix_at(self, observation_time: float) -> RtcPrefix | None:
        with self._lock:
            return self.scheduler.rtc_prefix(observation_time)
