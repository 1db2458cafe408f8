"""What the demo saw on the ROS topics, kept in memory and saved as one .npz for the report.

Times are wall-clock seconds (ROS stamps are wall clock): `stamp` is the time a message says it
describes (a bus read, a command's publication, an observation), `received` when the demo's
monitor node got it. Joint values are ROS radians in JOINT_NAMES order, the twin's converted
back from the simulator's names and units with the twin bridge's own mapping.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from so101_calibration import JOINT_NAMES

JOINTS = len(JOINT_NAMES)


class Series:
    """Appendable (stamp, received, values) samples; arrays on demand. Thread-safe for one writer."""

    def __init__(self, width: int = JOINTS):
        self.width = width
        self._rows: list[tuple[float, float, np.ndarray]] = []
        self._lock = threading.Lock()

    def append(self, stamp: float, received: float, values: np.ndarray) -> None:
        with self._lock:
            self._rows.append((stamp, received, np.asarray(values, dtype=float).reshape(self.width)))

    def __len__(self) -> int:
        return len(self._rows)

    def latest(self) -> np.ndarray | None:
        with self._lock:
            return self._rows[-1][2] if self._rows else None

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(stamps (N,), received (N,), values (N, width))."""
        with self._lock:
            rows = list(self._rows)
        if not rows:
            return np.empty(0), np.empty(0), np.empty((0, self.width))
        stamps, received, values = zip(*rows)
        return np.array(stamps), np.array(received), np.stack(values)


@dataclass(frozen=True, eq=False)
class ChunkRecord:
    received: float
    observation_time: float
    times: np.ndarray
    """(T,) when each action is due."""
    positions: np.ndarray
    """(T, 6) radians."""


@dataclass(frozen=True)
class Phase:
    name: str
    """"teleop", "demo <i>" (one recorded episode) or "deploy"."""
    start: float
    end: float


@dataclass
class Trace:
    leader: Series = field(default_factory=Series)
    follower: Series = field(default_factory=Series)
    commands: Series = field(default_factory=Series)
    twin: Series = field(default_factory=Series)
    twin_lag: Series = field(default_factory=lambda: Series(1))
    chunks: list[ChunkRecord] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    diagnostics: dict[str, dict[str, str]] = field(default_factory=dict)
    """Latest /diagnostics per status name: its values, plus "level" and "message"."""
    final_diagnostics: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    """Per graph (teleop, deploy): the last /diagnostics of its nodes before it stopped; each
    graph's nodes count from zero, so their counters are reported per graph."""

    def close_graph(self, name: str) -> None:
        """The graph `name` has stopped: keep its nodes' last reports apart from the next graph's."""
        self.final_diagnostics[name] = self.diagnostics
        self.diagnostics = {}

    def phase(self, name: str) -> Phase:
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise KeyError(f"no phase {name!r}; phases: {[p.name for p in self.phases]}")

    def save(self, path: Path) -> Path:
        """Everything but the diagnostics (they go to summary.json) as arrays in one .npz."""
        arrays: dict[str, np.ndarray] = {"joint_names": np.array(JOINT_NAMES)}
        for name in ("leader", "follower", "commands", "twin", "twin_lag"):
            stamps, received, values = getattr(self, name).arrays()
            arrays.update({f"{name}_stamp": stamps, f"{name}_received": received, f"{name}_values": values})
        lengths = [len(chunk.times) for chunk in self.chunks]
        arrays["chunk_received"] = np.array([c.received for c in self.chunks])
        arrays["chunk_observation_time"] = np.array([c.observation_time for c in self.chunks])
        arrays["chunk_lengths"] = np.array(lengths, dtype=int)
        arrays["chunk_times"] = np.concatenate([c.times for c in self.chunks]) if self.chunks else np.empty(0)
        arrays["chunk_positions"] = (
            np.concatenate([c.positions for c in self.chunks]) if self.chunks else np.empty((0, JOINTS))
        )
        arrays["phase_names"] = np.array([p.name for p in self.phases])
        arrays["phase_spans"] = np.array([(p.start, p.end) for p in self.phases]).reshape(-1, 2)
        np.savez_compressed(path, **arrays)
        return path
