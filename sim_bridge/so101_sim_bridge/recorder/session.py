"""A DemoRecorder owned by one thread, fed through one queue: what the recorder node runs.

Encoding video and compressing HDF5 take tens of milliseconds per step, and must not run on a
ROS executor's thread: image callbacks would queue up behind them and DDS would drop frames.
So the node's callbacks only enqueue (samples, and start/stop/discard commands), and a worker
thread applies them in order and writes the steps.

Time is the samples' own: the worker advances the recorder to the newest stamp it has applied,
never to the wall clock. PyAV and h5py hold Python's GIL while they encode and compress, so on
a small machine the node's callbacks can run 100+ ms late (DDS keeps the samples meanwhile);
aligning on stamps makes a late callback cost nothing, where advancing to "now" would decide
steps before their samples were taken off DDS. The backlog is bounded (max_backlog items);
beyond it, samples are refused and counted as overflow (the steps that miss them are dropped and
counted by the aligner), never the commands. A command is timed by the clock when it is made.

Episode edges: samples taken while no episode runs are not kept, so an episode's first step is
placed a tolerance after the start request (its nearest joint state and frame come after it),
and its last step a latency window before the stop request or the newest sample, whichever is
earlier (later steps could not have all their samples yet). Neither edge costs a dropped step.

Closing during an episode (Ctrl-C, the node stopping) keeps it: it is stopped as a failure
(success=false, which the HDF5 file keeps and LeRobot leaves out unless include_failed), and a
warning says where it went. Nothing recorded is thrown away by stopping.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from so101_hardware.cameras import Frame
from so101_sim_bridge.recorder.errors import RecorderError, RecorderStateError
from so101_sim_bridge.recorder.recorder import DemoRecorder, EpisodeSummary

log = logging.getLogger(__name__)

DEFAULT_MAX_BACKLOG = 2000
"""Queued items before samples are refused: about 8 s of two 30 fps cameras with 100 Hz joint
states and commands, at most ~420 MB of 640x480 frames."""


@dataclass(frozen=True)
class SessionStatus:
    """A snapshot for the status line and /diagnostics (replaced whole, so any thread may read it)."""

    recording: bool = False
    episode: int = 0
    """The current (or last) episode's number, from 1; 0 before the first."""
    started_at: float | None = None
    steps: int = 0
    dropped: int = 0
    late: int = 0
    missing: Mapping[str, int] = field(default_factory=dict)
    """Stream → steps dropped for lack of it, in the current (or last) episode."""
    saved: int = 0
    failed: int = 0
    overflow: int = 0
    backlog: int = 0
    error: str | None = None
    """The last recording error (disk full, a writer failure), until the next episode starts."""

    def line(self, now: float) -> str:
        """The live status line: episode, duration, frames, drops."""
        if self.recording and self.started_at is not None:
            elapsed = max(0.0, now - self.started_at)
            minutes, seconds = divmod(elapsed, 60)
            return (
                f"● REC episode {self.episode}  {int(minutes):02d}:{seconds:04.1f}  {self.steps} frames  "
                f"{self.dropped} dropped  {self.late} late  [N success  R failure  S subtask end]"
            )
        totals = f"{self.saved} saved, {self.failed} failed"
        if self.error:
            return f"stopped: {self.error}  ({totals})  [B record]"
        return f"idle  ({totals})  [B record]"


_CLOSE = object()


@dataclass
class _Sample:
    stamp: float
    apply: Callable[[DemoRecorder], None]


@dataclass
class _Command:
    requested: float
    apply: Callable[[DemoRecorder, float], Any]
    future: Future


class RecordingSession:
    """Owns `recorder` on a worker thread; every method may be called from any thread."""

    def __init__(
        self,
        recorder: DemoRecorder,
        clock: Callable[[], float] = time.time,
        max_backlog: int = DEFAULT_MAX_BACKLOG,
        on_error: Callable[[RecorderError], None] | None = None,
    ):
        self._recorder = recorder
        self._clock = clock
        self._on_error = on_error
        self._queue: queue.Queue[_Sample | _Command | object] = queue.Queue(maxsize=max_backlog)
        self._newest = float("-inf")  # the newest sample stamp applied: the recorder's clock
        self._status = SessionStatus()
        self._overflow = 0
        self._thread = threading.Thread(target=self._run, name="recorder-writer", daemon=True)
        self._thread.start()

    @property
    def status(self) -> SessionStatus:
        return replace(self._status, overflow=self._overflow, backlog=self._queue.qsize())

    # --- samples (never block: refused and counted when the writer is too far behind) --------

    def add_joint_state(self, stamp_s: float, position: Sequence[float], velocity: Sequence[float] | None = None) -> None:
        self._offer(_Sample(stamp_s, lambda recorder: recorder.add_joint_state(stamp_s, position, velocity)))

    def add_object_pose(self, name: str, stamp_s: float, pose: Sequence[float]) -> None:
        self._offer(_Sample(stamp_s, lambda recorder: recorder.add_object_pose(name, stamp_s, pose)))

    def add_action(self, stamp_s: float, position: Sequence[float]) -> None:
        self._offer(_Sample(stamp_s, lambda recorder: recorder.add_action(stamp_s, position)))

    def add_frame(self, camera: str, frame: Frame) -> None:
        self._offer(_Sample(frame.capture_wall, lambda recorder: recorder.add_frame(camera, frame)))

    def add_intervention(self, stamp_s: float, operator: bool) -> None:
        """Who drives from `stamp_s` on: never refused (one message per switch), like the commands."""
        self._queue.put(_Sample(stamp_s, lambda recorder: recorder.add_intervention(stamp_s, operator)))

    # --- commands (answered through a Future, in order with the samples before them) -----------

    def start(self, instruction: str) -> Future:
        """Future of the new episode's number."""
        return self._command(lambda recorder, now: self._start(recorder, now, instruction))

    def stop(self, success: bool) -> Future:
        """Future of (episode number, EpisodeSummary)."""
        return self._command(lambda recorder, now: self._stop(recorder, now, success))

    def discard(self) -> Future:
        """Future of the discarded episode's number."""
        return self._command(lambda recorder, _now: self._discard(recorder))

    def mark_subtask(self) -> Future:
        """Future of how many subtask ends the operator has marked in this episode (the mark is timed now)."""
        return self._command(lambda recorder, now: recorder.mark_subtask(now))

    def close(self) -> None:
        """Apply what is queued, keep an unfinished episode as a failure, close the writers (LeRobot metadata), join."""
        if self._thread.is_alive():
            self._queue.put(_CLOSE)
            self._thread.join()

    # --- worker thread -------------------------------------------------------------------------

    def _offer(self, sample: _Sample) -> None:
        try:
            self._queue.put_nowait(sample)
        except queue.Full:
            self._overflow += 1

    def _command(self, apply: Callable[[DemoRecorder, float], Any]) -> Future:
        future: Future = Future()
        if not self._thread.is_alive():
            future.set_exception(RecorderStateError("the recorder is closed"))
        else:
            self._queue.put(_Command(self._clock(), apply, future))
        return future

    def _run(self) -> None:
        try:
            while (item := self._queue.get()) is not _CLOSE:
                if isinstance(item, _Command):
                    self._run_command(item)
                else:
                    item.apply(self._recorder)  # the node checked the sample's shape and camera name
                    self._newest = max(self._newest, item.stamp)
                    self._advance()
            self._keep_interrupted()
        finally:
            self._recorder.close()

    def _keep_interrupted(self) -> None:
        """Closing mid-episode: save what was recorded as a failed episode, and say so."""
        if not self._recorder.recording:
            return
        episode = self._status.episode
        try:
            _, summary = self._stop(self._recorder, self._clock(), success=False)
        except RecorderError as exc:
            log.error("recording interrupted: episode %d could not be saved: %s", episode, exc)
            return
        if any(place is not None for place in summary.saved_as):
            outcome = "saved as a failed episode (success=false)"
        else:
            outcome = "failed episodes are left out of LeRobot datasets (include_failed keeps them)"
        log.warning("recording interrupted by shutdown: %s; %s", describe_stop(episode, summary), outcome)

    def _run_command(self, command: _Command) -> None:
        try:
            command.future.set_result(command.apply(self._recorder, command.requested))
        except Exception as exc:  # noqa: BLE001 - the caller of the command reports it
            command.future.set_exception(exc)
        self._refresh()

    def _advance(self) -> None:
        if not self._recorder.recording:
            return
        try:
            self._recorder.advance(self._newest)
        except RecorderError as exc:  # the recorder aborted the episode in every writer
            self._fail(exc)
        self._refresh()

    def _fail(self, exc: RecorderError) -> None:
        log.error("recording stopped: %s", exc)
        self._status = replace(self._status, recording=False, failed=self._status.failed + 1, error=str(exc))
        if self._on_error is not None:
            self._on_error(exc)

    def _refresh(self) -> None:
        if self._recorder.recording:
            stats = self._recorder.stats()
            self._status = replace(
                self._status, steps=self._recorder.steps, dropped=stats.steps_dropped, late=stats.late_samples,
                missing=stats.missing,
            )

    def _start(self, recorder: DemoRecorder, now: float, instruction: str) -> int:
        alignment = recorder.alignment
        recorder.start(now + max(alignment.joint_tolerance_s, alignment.frame_tolerance_s), instruction)
        episode = self._status.episode + 1
        self._status = replace(self._status, recording=True, episode=episode, started_at=now, steps=0, dropped=0,
                               late=0, missing={}, error=None)
        return episode

    def _stop(self, recorder: DemoRecorder, now: float, success: bool) -> tuple[int, EpisodeSummary]:
        was_recording = recorder.recording
        try:
            summary = recorder.stop(min(now, self._newest) - recorder.alignment.max_latency_s, success)
        except RecorderError as exc:
            if was_recording:  # the writers could not save it (stopping while idle is only refused)
                self._fail(exc)
            raise
        kept = any(place is not None for place in summary.saved_as)
        alignment = summary.alignment
        self._status = replace(
            self._status, recording=False, steps=summary.steps, dropped=alignment.steps_dropped,
            late=alignment.late_samples, missing=alignment.missing, saved=self._status.saved + int(success and kept),
            failed=self._status.failed + int(not success),
        )
        return self._status.episode, summary

    def _discard(self, recorder: DemoRecorder) -> int:
        recorder.discard()
        self._status = replace(self._status, recording=False)
        return self._status.episode


def describe_stop(episode: int, summary: EpisodeSummary) -> str:
    """One line for the operator: how the episode ended, its counters, and where it was saved."""
    outcome = "success" if summary.success else "failure"
    places = ", ".join(place for place in summary.saved_as if place is not None) or "not kept"
    alignment = summary.alignment
    return (
        f"episode {episode} ({outcome}): {summary.steps} steps, {alignment.steps_dropped} dropped, "
        f"{alignment.late_samples} late → {places}"
    )
