"""What an N1.7 action head does with a previous chunk, for the backends that stand in for a model.

The N1.7 head (docs/reference/gr00t-rtc.md §1) seeds rows [0, o) of its noise with rows
[AH−o, AH) of the previous chunk and integrates each row with a velocity weight w: the frozen rows
come back as the prefix, the ramp rows at about (1 − w)·previous + w·fresh, the rest fresh. The
replay and synthetic backends apply exactly that blend to the chunk they would have answered, so a
client sees from them what it would see from a patched GPU server, with no model. (The gr00t
backend hands the same request to the real head instead: gr00t.py.)
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from so101_calibration import JOINT_NAMES
from so101_policy.embodiment.data_config import DataConfig
from so101_policy.errors import ObservationError
from so101_policy.wire.rtc_options import ACTION_KEY, RtcOptions, velocity_weights


@dataclass(frozen=True, eq=False)
class PreviousChunk:
    """The previous chunk a request carries, and how to use it."""

    rows: np.ndarray
    """(T, 6) in the policy's units, JOINT_NAMES order (the groups put back together)."""
    options: RtcOptions


def previous_chunk(
    observation: Mapping[str, Any], options: Mapping[str, Any] | None, config: DataConfig
) -> PreviousChunk | None:
    """The RTC part of an N1.6+ (nested) request, or None for a plain one. As in the N1.7 head, the presence
    of observation['action'] is what asks for RTC; ObservationError when it or the options are malformed."""
    previous = observation.get(ACTION_KEY)
    if previous is None:
        return None
    if not isinstance(previous, Mapping):
        raise ObservationError(f"observation['{ACTION_KEY}'] must map each action group to an array, "
                               f"got {type(previous).__name__}")
    parts = [(group, _group_rows(previous, group.name, len(group.joints))) for group in config.groups]
    lengths = {rows.shape[0] for _, rows in parts}
    if len(lengths) != 1:
        raise ObservationError(f"observation['{ACTION_KEY}'] groups disagree on the row count: {sorted(lengths)}")
    rows = np.empty((lengths.pop(), len(JOINT_NAMES)), dtype=np.float64)
    for group, values in parts:
        rows[:, list(group.indices)] = values
    try:
        rtc = RtcOptions.from_wire(options)
    except ValueError as exc:
        raise ObservationError(str(exc)) from None
    if rtc.action_horizon > rows.shape[0]:
        raise ObservationError(f"action_horizon {rtc.action_horizon} exceeds the {rows.shape[0]} rows sent in "
                               f"observation['{ACTION_KEY}']")
    return PreviousChunk(rows, rtc)


def inpaint(fresh: np.ndarray, previous: PreviousChunk) -> np.ndarray:
    """`fresh` (T, 6), the chunk the backend would answer without RTC, as the N1.7 head conditions it on
    `previous`: row j < o becomes (1 − w_j)·previous[AH − o + j] + w_j·fresh[j]."""
    options = previous.options
    out = np.array(fresh, dtype=np.float64)
    seeded = min(options.overlap_steps, out.shape[0])
    start = options.action_horizon - options.overlap_steps
    weights = velocity_weights(options, seeded)[:, np.newaxis]
    seed = previous.rows[start:start + seeded]
    out[:seeded] = (1.0 - weights) * seed + weights * out[:seeded]
    return out


def _group_rows(previous: Mapping[str, Any], name: str, width: int) -> np.ndarray:
    if name not in previous:
        raise ObservationError(f"observation['{ACTION_KEY}'] lacks {name!r} (has {sorted(map(str, previous))})")
    value = previous[name]
    if not isinstance(value, np.ndarray) or value.dtype != np.float32 or value.ndim != 3 \
            or value.shape[0] != 1 or value.shape[1] < 1 or value.shape[2] != width:
        described = f"{value.dtype} {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
        raise ObservationError(f"observation['{ACTION_KEY}']['{name}'] must be float32 of shape (1, T, {width}), "
                               f"got {described}")
    rows = value[0].astype(np.float64)
    if not np.all(np.isfinite(rows)):
        raise ObservationError(f"observation['{ACTION_KEY}']['{name}'] holds NaN or infinite values")
    return rows
