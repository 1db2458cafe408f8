"""The demo's figures, computed from its Trace alone (pure functions; the plots draw the same data).

Tracking errors compare two arms at the same instants: the reference is interpolated at the
other's stamps (bus read times for the arms, publication times for commands), so they include
the pipeline's lag while the arm moves, which is what an operator sees.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from so101_bringup.demo.trace import Phase, Series, Trace
from so101_calibration import JOINT_NAMES

TELEOP = "teleop"
DEPLOY = "deploy"
EPISODE_PREFIX = "demo "


@dataclass(frozen=True)
class TrackingError:
    """|x − reference| per joint over a set of samples, radians."""

    mean: dict[str, float]
    p99: dict[str, float]
    samples: int

    @property
    def worst_p99(self) -> float:
        return max(self.p99.values()) if self.p99 else float("nan")


@dataclass(frozen=True)
class Latency:
    """One latency's samples (seconds) and their percentiles (milliseconds)."""

    samples_s: np.ndarray = field(repr=False)

    @property
    def count(self) -> int:
        return int(self.samples_s.size)

    def percentiles_ms(self) -> dict[str, float]:
        if not self.count:
            return {"count": 0}
        p50, p99 = np.percentile(self.samples_s, [50, 99]) * 1e3
        return {"count": self.count, "p50_ms": float(p50), "p99_ms": float(p99), "max_ms": float(self.samples_s.max() * 1e3)}


def episodes(trace: Trace) -> list[Phase]:
    return [phase for phase in trace.phases if phase.name.startswith(EPISODE_PREFIX)]


def in_phases(times: np.ndarray, phases: list[Phase]) -> np.ndarray:
    """Mask of the times that fall inside any of `phases`."""
    mask = np.zeros(times.shape, dtype=bool)
    for phase in phases:
        mask |= (times >= phase.start) & (times <= phase.end)
    return mask


def tracking_error(reference: Series, measured: Series, phases: list[Phase]) -> TrackingError:
    """`measured` − `reference` interpolated at measured's stamps, over the samples inside `phases`."""
    ref_t, _, ref_x = reference.arrays()
    t, _, x = measured.arrays()
    order = np.argsort(ref_t)
    ref_t, ref_x = ref_t[order], ref_x[order]
    mask = in_phases(t, phases)
    if ref_t.size:
        mask &= (t >= ref_t[0]) & (t <= ref_t[-1])  # no extrapolation
    if not ref_t.size or not mask.any():
        nan = {name: float("nan") for name in JOINT_NAMES}
        return TrackingError(nan, nan, 0)
    interpolated = np.column_stack([np.interp(t[mask], ref_t, ref_x[:, j]) for j in range(len(JOINT_NAMES))])
    error = np.abs(x[mask] - interpolated)
    return TrackingError(
        {n: float(v) for n, v in zip(JOINT_NAMES, error.mean(axis=0))},
        {n: float(v) for n, v in zip(JOINT_NAMES, np.percentile(error, 99, axis=0))},
        int(mask.sum()),
    )


def leader_to_command(trace: Trace, phases: list[Phase]) -> Latency:
    """Teleop's latency: each command's publication − the newest leader bus read before it."""
    leader_t = np.sort(trace.leader.arrays()[0])
    command_t = trace.commands.arrays()[0]
    command_t = command_t[in_phases(command_t, phases)]
    newest = np.searchsorted(leader_t, command_t, side="right") - 1
    valid = newest >= 0
    return Latency(command_t[valid] - leader_t[newest[valid]])


def delivery(series: Series, phases: list[Phase]) -> Latency:
    """Stamp → arrival at the monitor (e.g. a leader bus read until its joint state is delivered)."""
    stamps, received, _ = series.arrays()
    mask = in_phases(stamps, phases)
    return Latency(received[mask] - stamps[mask])


def twin_lag(trace: Trace, phases: list[Phase]) -> Latency:
    """The twin bridge's own measure: a follower state's stamp → the simulator's echo of it,
    for echoes that arrived inside `phases` (not while the twin starts)."""
    received, _, lags = trace.twin_lag.arrays()
    return Latency(lags[in_phases(received, phases), 0])


def chunk_latency(trace: Trace) -> Latency:
    """Observation → the chunk predicted from it published on policy/chunk (≤ one control tick
    after it arrived at the inference node)."""
    return Latency(np.array([c.received - c.observation_time for c in trace.chunks]))


def rate_hz(series: Series, phases: list[Phase]) -> float:
    """Messages per second over the phases' total duration."""
    stamps = series.arrays()[0]
    duration = sum(phase.end - phase.start for phase in phases)
    return float(in_phases(stamps, phases).sum() / duration) if duration > 0 else float("nan")


def chunk_boundaries(trace: Trace) -> np.ndarray:
    """When each chunk took over: the due time of its first action (sorted)."""
    return np.sort(np.array([c.times[0] for c in trace.chunks]))


def counters(values: dict[str, str], prefixes: tuple[str, ...]) -> dict[str, int]:
    """The integer /diagnostics values whose keys start with one of `prefixes`."""
    found = {}
    for key, value in values.items():
        if key.startswith(prefixes):
            try:
                found[key] = int(float(value))
            except ValueError:
                continue
    return found
