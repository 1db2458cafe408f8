"""The server side of the data-config layout: the state out of an observation, a chunk into an action reply.

The mirror image of observation_builder.py (robot readings → observation) and action_decoder.py
(reply → radians), for backends that answer as a checkpoint would: keys and shapes per data
config and generation (docs/reference/gr00t-wire.md §7), values in the policy's units.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from so101_calibration import JOINT_NAMES
from so101_policy.embodiment.data_config import DataConfig
from so101_policy.wire.generations import Protocol


def observed_state(observation: Mapping[str, Any], config: DataConfig, protocol: Protocol) -> np.ndarray:
    """(6,) float64 in the policy's units, JOINT_NAMES order, from a validated observation's state groups."""
    state = np.empty(len(JOINT_NAMES), dtype=np.float64)
    for group in config.groups:
        values = observation["state"][group.name] if protocol.nested else observation[f"state.{group.name}"]
        state[list(group.indices)] = np.asarray(values, dtype=np.float64).reshape(-1)
    return state


def action_reply(chunk: np.ndarray, config: DataConfig, protocol: Protocol) -> dict[str, np.ndarray]:
    """(T, 6) → the action map a checkpoint answers: {group: float32 (1, T, n)} for N1.6+,
    {"action.<group>": float32 (T, n)} for N1.5."""
    rows = np.asarray(chunk, dtype=np.float32)
    action = {}
    for group in config.groups:
        values = rows[:, list(group.indices)]
        if protocol.nested:
            action[group.name] = values[np.newaxis]
        else:
            action[f"action.{group.name}"] = values
    return action
