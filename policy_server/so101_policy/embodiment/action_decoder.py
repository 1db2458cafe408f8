"""A get_action reply → an (T, 6) chunk in ROS radians, or BadActionError saying what was wrong.

This is the first check on what a policy sends back (keys, types, dtypes, shapes, finiteness);
the streaming validator then checks the radians against joint limits and continuity.
Each BadActionError's `kind` is a diagnostics counter name.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from so101_calibration import JOINT_NAMES
from so101_policy.embodiment.data_config import DataConfig, JointGroup
from so101_policy.embodiment.joint_units import PolicyUnits
from so101_policy.errors import BadActionError
from so101_policy.wire.generations import Protocol


@dataclass(frozen=True)
class ActionDecoder:
    data_config: DataConfig
    protocol: Protocol
    units: PolicyUnits

    def decode(self, action: Mapping[str, Any]) -> np.ndarray:
        """(T, 6) float64 radians in JOINT_NAMES order; T is the chunk length the policy sent."""
        if not isinstance(action, Mapping):
            raise BadActionError("bad_type", f"the action must be a map, got {type(action).__name__}")
        parts = [(group, self._group_array(action, group)) for group in self.data_config.groups]
        lengths = {array.shape[0] for _, array in parts}
        if len(lengths) != 1:
            raise BadActionError("bad_shape", f"action groups disagree on the chunk length: {sorted(lengths)}")
        chunk = np.empty((lengths.pop(), len(JOINT_NAMES)), dtype=np.float64)
        for group, array in parts:
            chunk[:, list(group.indices)] = array
        if not np.all(np.isfinite(chunk)):
            raise BadActionError("non_finite", "the action chunk holds NaN or infinite values")
        try:
            return self.units.to_radians(chunk)
        except ValueError as exc:
            raise BadActionError("out_of_range", f"cannot convert the chunk to radians: {exc}") from None

    def _group_array(self, action: Mapping[str, Any], group: JointGroup) -> np.ndarray:
        """The group's (T, n) actions, unbatched; BadActionError for a missing key or a wrong array."""
        batched = self.protocol.nested
        key = group.name if batched else f"action.{group.name}"
        if key not in action:
            raise BadActionError("bad_keys", f"the action lacks {key!r} (has {sorted(map(str, action))})")
        value = action[key]
        if not isinstance(value, np.ndarray):
            raise BadActionError("bad_type", f"{key} must be an array, got {type(value).__name__}")
        if not np.issubdtype(value.dtype, np.floating):
            raise BadActionError("bad_dtype", f"{key} must be a float array, got {value.dtype}")
        width = len(group.joints)
        if value.ndim != (3 if batched else 2) or value.shape[-1] != width or value.shape[-2] < 1 \
                or (batched and value.shape[0] != 1):
            layout = f"(1, T, {width})" if batched else f"(T, {width})"
            raise BadActionError("bad_shape", f"{key} must have shape {layout}, got {value.shape}")
        return value[0] if batched else value
