"""The demo recorder: samples in, aligned steps out to every writer, one episode at a time.

A ROS recorder node (or a benchmark) owns one DemoRecorder and forwards to it: joint states
(follower's, or the twin's converted back to ROS radians), commands, camera frames, and a timer
calling advance(now) at any rate (a few times per recording step is plenty). start/stop/discard
map to the /recorder services. All times are seconds on the clock of the samples' header stamps;
the recorder never reads a clock itself, so a test or a benchmark drives it with exact times.

Writers fail together: if one cannot take a step (disk full), the episode is aborted in all of
them, so the HDF5 file and the LeRobot dataset never disagree about which episodes exist.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from so101_calibration import JOINT_NAMES
from so101_hardware.cameras import Frame
from so101_sim_bridge.recorder.alignment import AlignmentConfig, AlignmentStats, StepAligner
from so101_sim_bridge.recorder.episode import EpisodeInfo, EpisodeOutcome, EpisodeWriter, Step
from so101_sim_bridge.recorder.errors import RecorderStateError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecorderConfig:
    cameras: tuple[str, ...] = ("wrist", "front")
    """Cameras every step must have (any names: real, sim, or both, e.g. 'wrist', 'sim_front')."""
    alignment: AlignmentConfig = AlignmentConfig()
    objects: tuple[str, ...] = ()
    """Simulator objects whose poses every step must have (a task's scene objects)."""
    intervention: bool = False
    """Record who drove each step (add_intervention): an operator's correction or the policy."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "cameras", tuple(self.cameras))
        object.__setattr__(self, "objects", tuple(self.objects))
        for what, names in (("camera", self.cameras), ("object", self.objects)):
            if len(set(names)) != len(names):
                raise ValueError(f"{what} listed twice: {names}")


@dataclass(frozen=True)
class EpisodeSummary:
    """What stop() reports: where each writer put the episode (None: not kept) and the counters."""

    success: bool
    steps: int
    saved_as: tuple[str | None, ...]
    alignment: AlignmentStats


class DemoRecorder:
    """Feeds aligned steps of one episode at a time into its writers."""

    def __init__(self, config: RecorderConfig, writers: Sequence[EpisodeWriter]):
        if not writers:
            raise ValueError("a recorder needs at least one writer")
        self._config = config
        self._writers = tuple(writers)
        self._aligner: StepAligner | None = None
        self._steps = 0
        self._marks: list[float] = []
        self._operator = (-np.inf, False)
        """The latest (stamp, operator drives) heard, kept between episodes: an episode starts with it."""

    @property
    def recording(self) -> bool:
        return self._aligner is not None

    @property
    def alignment(self) -> AlignmentConfig:
        return self._config.alignment

    @property
    def steps(self) -> int:
        """Steps recorded in the current episode so far."""
        return self._steps

    def stats(self) -> AlignmentStats:
        """The current episode's counters (zeros when idle)."""
        return self._aligner.stats() if self._aligner is not None else AlignmentStats()

    def start(self, now_s: float, instruction: str, seed: int = 0) -> None:
        """Begin an episode whose first step is at now_s."""
        if self._aligner is not None:
            raise RecorderStateError("an episode is already being recorded; stop or discard it first")
        info = EpisodeInfo(instruction=instruction, seed=seed)
        started: list[EpisodeWriter] = []
        try:
            for writer in self._writers:
                writer.begin_episode(info)
                started.append(writer)
        except Exception:
            for writer in started:
                writer.abort_episode()
            raise
        initial = self._operator[1] if self._config.intervention else None
        self._aligner = StepAligner(self._config.alignment, self._config.cameras, now_s, self._config.objects,
                                    initial)
        self._steps = 0
        self._marks = []

    def add_joint_state(
        self, stamp_s: float, position: Sequence[float], velocity: Sequence[float] | None = None
    ) -> None:
        """Observed joint positions (and velocities, rad/s), ROS radians in JOINT_NAMES order (ignored while idle)."""
        if self._aligner is not None:
            speed = _joint_vector(velocity, "joint velocity") if velocity is not None and len(velocity) else None
            self._aligner.add_joint_state(stamp_s, _joint_vector(position, "joint state"), speed)

    def add_object_pose(self, name: str, stamp_s: float, pose: Sequence[float]) -> None:
        """A simulator object's pose [x, y, z, qw, qx, qy, qz] in the robot root frame (ignored while idle)."""
        if self._aligner is not None:
            vector = np.asarray(pose, dtype=np.float64)
            if vector.shape != (7,) or not np.all(np.isfinite(vector)):
                raise ValueError(f"object pose needs 7 finite values [x, y, z, qw, qx, qy, qz], got {vector}")
            self._aligner.add_object_pose(name, stamp_s, vector)

    def mark_subtask(self, now_s: float) -> int:
        """The operator ends the current subtask at now_s (LeIsaac's manual annotation); how many marks so far."""
        self._require_recording()
        if self._marks and now_s <= self._marks[-1]:
            raise RecorderStateError("a subtask mark must come after the previous one")
        self._marks.append(now_s)
        return len(self._marks)

    def add_action(self, stamp_s: float, position: Sequence[float]) -> None:
        """A position command, ROS radians in JOINT_NAMES order (ignored while idle)."""
        if self._aligner is not None:
            self._aligner.add_action(stamp_s, _joint_vector(position, "action"))

    def add_intervention(self, stamp_s: float, operator: bool) -> None:
        """From `stamp_s` on, the operator (True) or the policy (False) drives: each step's intervention flag."""
        if stamp_s >= self._operator[0]:
            self._operator = (stamp_s, operator)
        if self._aligner is not None:
            self._aligner.add_intervention(stamp_s, operator)

    def add_frame(self, camera: str, frame: Frame) -> None:
        """A camera frame; its capture_wall is the stamp (a ROS node sets it from header.stamp)."""
        if self._aligner is not None:
            self._aligner.add_frame(camera, frame.capture_wall, frame.image)

    def advance(self, now_s: float) -> int:
        """Record every step whose samples have had time to arrive; the number recorded."""
        aligner = self._require_recording()
        return self._write(aligner.ready(now_s))

    def stop(self, now_s: float, success: bool) -> EpisodeSummary:
        """End the episode at now_s and hand it to the writers, marked successful or failed."""
        aligner = self._require_recording()
        self._write(aligner.finish(now_s))
        stats = aligner.stats()
        outcome = EpisodeOutcome(success=success, dropped_steps=stats.steps_dropped, late_samples=stats.late_samples,
                                 subtask_marks_s=tuple(self._marks))
        self._aligner = None
        saved: list[str | None] = []
        try:
            for writer in self._writers:
                saved.append(writer.end_episode(outcome))
        except Exception:
            for writer in self._writers[len(saved):]:
                writer.abort_episode()
            raise
        return EpisodeSummary(success, self._steps, tuple(saved), stats)

    def discard(self) -> None:
        """Forget the current episode in every writer."""
        self._require_recording()
        self._abort()

    def close(self) -> None:
        """Drop an unfinished episode, then close the writers (LeRobot metadata is written here)."""
        if self._aligner is not None:
            log.warning("closing the recorder during an episode: the unfinished episode is dropped")
            self._abort()
        for writer in self._writers:
            writer.close()

    def __enter__(self) -> DemoRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _require_recording(self) -> StepAligner:
        if self._aligner is None:
            raise RecorderStateError("no episode is being recorded; start one first")
        return self._aligner

    def _write(self, aligned) -> int:
        for item in aligned:
            step = Step(self._steps, item.stamp_s, item.joint_position, item.action, MappingProxyType(item.images),
                        item.joint_velocity, item.object_poses, item.intervention)
            try:
                for writer in self._writers:
                    writer.append(step)
            except Exception:
                self._abort()
                raise
            self._steps += 1
        return len(aligned)

    def _abort(self) -> None:
        self._aligner = None
        for writer in self._writers:
            writer.abort_episode()


def _joint_vector(position: Sequence[float], what: str) -> np.ndarray:
    vector = np.asarray(position, dtype=np.float64)
    if vector.shape != (len(JOINT_NAMES),):
        raise ValueError(f"{what} needs {len(JOINT_NAMES)} positions ({', '.join(JOINT_NAMES)}), got shape {vector.shape}")
    return vector
