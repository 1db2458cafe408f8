"""What flows from the recorder into the writers: one aligned step, and the start and end of an episode.

Units inside the recorder are the ROS ones (docs/architecture.md §4): radians, joints in JOINT_NAMES order.
Each writer converts to its own format's units (Isaac Lab HDF5: the simulator's, through a
SimMapping; LeRobot: degrees or normalized, through a UnitConverter), so conversions live where
the format is defined and nowhere else.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True, eq=False)  # numpy fields: compare the arrays, not the objects
class Step:
    """One recorded time step, all streams aligned to `stamp_s`."""

    index: int
    """Position in the episode (0, 1, 2, ... with no gaps; a dropped step takes no index)."""
    stamp_s: float
    """The step's time on the recorder's clock (ROS header stamps, seconds)."""
    joint_position: np.ndarray
    """(6,) radians, JOINT_NAMES order: the observed arm (follower or twin)."""
    action: np.ndarray
    """(6,) radians, JOINT_NAMES order: the command in effect at stamp_s (teleop or policy)."""
    images: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Camera name → H x W x 3 uint8 RGB."""
    joint_velocity: np.ndarray | None = None
    """(6,) rad/s with the joint state (None when the state carried no velocities: zeros are written)."""
    object_poses: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Object name (the simulator's) → (7,) [x, y z, qw, qx, qy, qz] in the robot root frame."""
    intervention: bool | None = None
    """True while an operator drove instead of the policy (a correction, LeRobot's DAgger flag); None when the
    recording does not track who drove (RecorderConfig.intervention off)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "images", MappingProxyType(dict(self.images)))
        object.__setattr__(self, "object_poses", MappingProxyType(dict(self.object_poses)))

    @property
    def velocity(self) -> np.ndarray:
        return self.joint_velocity if self.joint_velocity is not None else np.zeros_like(self.joint_position)


@dataclass(frozen=True)
class EpisodeInfo:
    """What is known when an episode starts."""

    instruction: str
    """The language instruction (LeRobot's task)."""
    seed: int = 0
    """Isaac Lab's per-demo seed attribute; for a real-robot demo, whatever the operator chose."""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    """More demo attributes for a writer that keeps them (the HDF5 writer), e.g. a generator's provenance."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))


@dataclass(frozen=True)
class EpisodeOutcome:
    """How an episode ended, with the alignment counters a writer may store beside the data."""

    success: bool
    dropped_steps: int = 0
    late_samples: int = 0
    subtask_marks_s: tuple[float, ...] = ()
    """When the operator marked the end of each subtask (recorder clock), in order."""


class EpisodeWriter(Protocol):
    """A dataset format the recorder writes into; episodes arrive one at a time, steps in order."""

    def begin_episode(self, info: EpisodeInfo) -> None: ...

    def append(self, step: Step) -> None: ...

    def end_episode(self, outcome: EpisodeOutcome) -> str | None:
        """Keep (or, by the writer's policy, leave out) the episode; where it went, or None if not kept."""
        ...

    def abort_episode(self) -> None:
        """Forget the current episode entirely (discard, or another writer failed)."""
        ...

    def close(self) -> None: ...
