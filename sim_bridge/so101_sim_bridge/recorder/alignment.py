"""Time alignment: turn streams arriving at their own rates into steps on a fixed-rate grid.

Step k is at t_k = start + k / fps (recorder clock = the ROS header stamps of the samples). Each
step takes, per stream:

- joint state: the sample nearest to t_k within ±joint_tolerance_s (a follower publishing at
  50-100 Hz always has one; the same sample may serve two steps if the arm is slower than fps);
- each object's pose (simulator objects a task records): the sample nearest to t_k within
  ±object_tolerance_s, reusable like joint states;
- action: the latest command stamped at or before t_k and at most action_max_age_s old (zero-order
  hold: it is what the arm was executing at t_k);
- each camera: the frame nearest to t_k within ±frame_tolerance_s (default half a step), and a
  frame serves at most one step: a camera slower than fps leaves steps without a frame;
- intervention (when tracked): who drove at t_k, the last change stamped at or before it.

A step missing any of these is dropped and counted per missing stream; nothing is duplicated or
interpolated to fill the hole. Step k is decided once the clock passes t_k + max_latency_s, so
samples still in flight (camera latency, DDS) can arrive; a sample that arrives after the step it
belonged to was decided is counted as late and discarded. Everything is driven by the `now`
arguments: no threads, no sleeping, deterministic in tests.
"""
from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from so101_sim_bridge.recorder.rate import DEFAULT_FPS, checked_fps

JOINTS = "joints"
ACTION = "action"
OBJECT_PREFIX = "object_"
"""Streams of object poses are named object_<name> (counters, diagnostics)."""


@dataclass(frozen=True)
class AlignmentConfig:
    """The recording grid and how far from it a sample may be."""

    fps: int = DEFAULT_FPS
    joint_tolerance_s: float = 0.02
    action_max_age_s: float = 0.1
    frame_tolerance_s: float | None = None
    """None: half a step (1 / (2 · fps)), so neighbouring steps never compete for a frame."""
    object_tolerance_s: float = 0.05
    max_latency_s: float = 0.1
    """How long after t_k the recorder waits for t_k's samples before deciding the step."""

    def __post_init__(self) -> None:
        checked_fps(self.fps)
        if self.frame_tolerance_s is None:
            object.__setattr__(self, "frame_tolerance_s", 0.5 / self.fps)
        for name in ("joint_tolerance_s", "action_max_age_s", "frame_tolerance_s", "object_tolerance_s",
                     "max_latency_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be >= 0 seconds, got {value}")

    @property
    def period_s(self) -> float:
        return 1.0 / self.fps


@dataclass(frozen=True, eq=False)
class AlignedStep:
    """One complete step of the grid (see Step for the recorder's numbered version)."""

    grid_index: int
    stamp_s: float
    joint_position: np.ndarray
    action: np.ndarray
    images: Mapping[str, np.ndarray]
    joint_velocity: np.ndarray | None = None
    object_poses: Mapping[str, np.ndarray] = field(default_factory=dict)
    intervention: bool | None = None


@dataclass(frozen=True)
class AlignmentStats:
    """Counters for one episode."""

    steps_recorded: int = 0
    steps_dropped: int = 0
    missing: Mapping[str, int] = field(default_factory=dict)
    """Stream → steps dropped because it had no usable sample (a step may miss several)."""
    late: Mapping[str, int] = field(default_factory=dict)
    """Stream → samples that arrived after the step they belonged to was decided."""

    @property
    def late_samples(self) -> int:
        return sum(self.late.values())


class _Stream:
    """Samples of one stream ordered by stamp (arrivals may be slightly out of order)."""

    def __init__(self) -> None:
        self.stamps: list[float] = []
        self.values: list[Any] = []

    def add(self, stamp: float, value: Any) -> None:
        i = bisect.bisect_right(self.stamps, stamp)
        self.stamps.insert(i, stamp)
        self.values.insert(i, value)

    def nearest(self, t: float, tolerance: float) -> int | None:
        lo = bisect.bisect_left(self.stamps, t - tolerance)
        hi = bisect.bisect_right(self.stamps, t + tolerance)
        if lo == hi:
            return None
        return min(range(lo, hi), key=lambda i: abs(self.stamps[i] - t))

    def latest_at_or_before(self, t: float, max_age: float) -> int | None:
        i = bisect.bisect_right(self.stamps, t) - 1
        return i if i >= 0 and t - self.stamps[i] <= max_age else None

    def take(self, i: int) -> Any:
        """Remove sample i (a frame is used once) and return its value."""
        del self.stamps[i]
        return self.values.pop(i)

    def drop_before(self, t: float) -> None:
        i = bisect.bisect_left(self.stamps, t)
        del self.stamps[:i]
        del self.values[:i]


class StepAligner:
    """Aligns one episode's samples onto the grid starting at start_s."""

    def __init__(self, config: AlignmentConfig, cameras: Sequence[str], start_s: float, objects: Sequence[str] = (),
                 intervention: bool | None = None):
        """`objects`: simulator objects every step needs a pose of; `intervention`: who drove when the episode
        starts (None: not tracked), add_intervention() the changes."""
        self._config = config
        self._interventions: list[tuple[float, bool]] | None = None if intervention is None else [(-math.inf,
                                                                                                  intervention)]
        self._cameras = tuple(cameras)
        self._objects = {name: OBJECT_PREFIX + name for name in objects}
        self._start_s = start_s
        self._next = 0
        self._streams = {name: _Stream() for name in (JOINTS, ACTION, *self._cameras, *self._objects.values())}
        self._recorded = 0
        self._dropped = 0
        self._missing: Counter[str] = Counter()
        self._late: Counter[str] = Counter()

    @property
    def cameras(self) -> tuple[str, ...]:
        return self._cameras

    def add_joint_state(self, stamp_s: float, position: np.ndarray, velocity: np.ndarray | None = None) -> None:
        self._add(JOINTS, stamp_s, (position, velocity), self._config.joint_tolerance_s)

    def add_object_pose(self, name: str, stamp_s: float, pose: np.ndarray) -> None:
        if name not in self._objects:
            raise KeyError(f"object {name!r} is not recorded; recorded objects: {', '.join(self._objects) or 'none'}")
        self._add(self._objects[name], stamp_s, pose, self._config.object_tolerance_s)

    def add_action(self, stamp_s: float, position: np.ndarray) -> None:
        self._add(ACTION, stamp_s, position, self._config.action_max_age_s)

    def add_intervention(self, stamp_s: float, operator: bool) -> None:
        """Who drives from `stamp_s` on (True: the operator); ignored unless tracked."""
        if self._interventions is not None:
            bisect.insort(self._interventions, (stamp_s, operator))

    def add_frame(self, camera: str, stamp_s: float, image: np.ndarray) -> None:
        if camera not in self._cameras:
            raise KeyError(f"camera {camera!r} is not recorded; recorded cameras: {', '.join(self._cameras)}")
        self._add(camera, stamp_s, image, self._config.frame_tolerance_s)

    def ready(self, now_s: float) -> list[AlignedStep]:
        """Decide every step whose samples have had max_latency_s to arrive."""
        return self._decide_until(now_s - self._config.max_latency_s)

    def finish(self, end_s: float) -> list[AlignedStep]:
        """Decide the remaining steps up to end_s with what has arrived (the episode is stopping)."""
        return self._decide_until(end_s)

    def stats(self) -> AlignmentStats:
        return AlignmentStats(
            self._recorded, self._dropped, MappingProxyType(dict(self._missing)), MappingProxyType(dict(self._late))
        )

    def _stamp(self, k: int) -> float:
        return self._start_s + k * self._config.period_s

    def _add(self, stream: str, stamp_s: float, value: Any, reach_s: float) -> None:
        if not math.isfinite(stamp_s):
            raise ValueError(f"{stream}: stamp must be finite seconds, got {stamp_s}")
        if self._next > 0 and stamp_s < self._stamp(self._next) - reach_s:
            if stamp_s >= self._start_s - reach_s:  # it belonged to a decided step, not to before the episode
                self._late[stream] += 1
            return
        self._streams[stream].add(stamp_s, value)

    def _decide_until(self, until_s: float) -> list[AlignedStep]:
        steps = []
        while self._stamp(self._next) <= until_s:
            step = self._decide(self._next)
            if step is not None:
                steps.append(step)
            self._next += 1
            self._forget_old()
        return steps

    def _decide(self, k: int) -> AlignedStep | None:
        t = self._stamp(k)
        config = self._config
        found = {
            JOINTS: self._streams[JOINTS].nearest(t, config.joint_tolerance_s),
            ACTION: self._streams[ACTION].latest_at_or_before(t, config.action_max_age_s),
        }
        for camera in self._cameras:
            found[camera] = self._streams[camera].nearest(t, config.frame_tolerance_s)
        for stream in self._objects.values():
            found[stream] = self._streams[stream].nearest(t, config.object_tolerance_s)
        missing = [stream for stream, index in found.items() if index is None]
        if missing:
            self._dropped += 1
            self._missing.update(missing)
            return None
        self._recorded += 1
        position, velocity = self._streams[JOINTS].values[found[JOINTS]]
        return AlignedStep(
            grid_index=k,
            stamp_s=t,
            joint_position=position,
            action=self._streams[ACTION].values[found[ACTION]],
            images={camera: self._streams[camera].take(found[camera]) for camera in self._cameras},
            joint_velocity=velocity,
            object_poses={name: self._streams[stream].values[found[stream]] for name, stream in self._objects.items()},
            intervention=self._intervention_at(t),
        )

    def _intervention_at(self, t: float) -> bool | None:
        if self._interventions is None:
            return None
        changes = self._interventions
        return changes[bisect.bisect_right(changes, (t, True)) - 1][1]

    def _forget_old(self) -> None:
        """Drop samples too old for any undecided step (keeps memory at a few frames per camera)."""
        t = self._stamp(self._next)
        self._streams[JOINTS].drop_before(t - self._config.joint_tolerance_s)
        self._streams[ACTION].drop_before(t - self._config.action_max_age_s)
        for camera in self._cameras:
            self._streams[camera].drop_before(t - self._config.frame_tolerance_s)
        for stream in self._objects.values():
            self._streams[stream].drop_before(t - self._config.object_tolerance_s)
        if self._interventions is not None:  # keep the change in force at t
            del self._interventions[:max(0, bisect.bisect_right(self._interventions, (t, True)) - 1)]
