"""ROS radians ↔ simulator joint values, through a named mapping: joint names plus a unit map.

Simulators match commands by joint name (Isaac Sim: the USD joint prim names), and SO-101 assets
name the joints differently (docs/reference/isaac-sim.md §2). Their zero and scale differ too:

- `physical`: the sim joint angle is the physical angle, i.e. ROS radians unchanged. Right for
  assets built on the SO-101 "new calib" URDF (zero at mid-range), such as the MuJoCo twin.
- `leisaac`: LeIsaac's table (docs/reference/isaac-sim.md §3), which Isaac Lab SO-101 assets and NVIDIA's
  Sim-to-Real workshop expect. It maps the fraction of the calibrated range linearly onto the
  USD joint limits: deg = j_lo + (j_hi − j_lo) · (ticks − range_min) / (range_max − range_min).
  That is LeIsaac's formula on LeRobot RANGE_M100_100 / RANGE_0_100 values, so it needs this
  arm's calibration and does not depend on the use_degrees convention.

Every mapping is affine per joint (sim = scale · rad + offset) and not clamped, so sim → ROS →
sim is exact to float precision and limits stay the safety filter's job. A custom mapping comes
from YAML; it may add a per-joint scale and offset on top (e.g. an asset whose wrist roll is
turned by π/2):

    names: so_arm101_usd        # a preset name, or {shoulder_pan: Rotation, ...} for all six joints
    units: leisaac              # physical (default) or leisaac
    scale: {gripper: 0.25}      # optional, by ROS joint name: sim = units(rad) · scale + offset
    offset: {wrist_roll: 1.5708}
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import yaml

from so101_calibration.calibration import ArmCalibration
from so101_calibration.joints import JOINT_NAMES
from so101_calibration.units import TICKS_PER_TURN

SIM_JOINT_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # SO-ARM100 URDF, LeIsaac USD, LeRobot, most ROS 2 bridges
        "so101": JOINT_NAMES,
        # NVIDIA Sim-to-Real workshop SO-ARM101-USD.usd and bridges built on it
        "so_arm101_usd": ("Rotation", "Pitch", "Elbow", "Wrist_Pitch", "Wrist_Roll", "Jaw"),
        # ros-physical-ai/ros2_so_arm and adityakamath/so_arm_ros2 xacros
        "ros2_so_arm": tuple(f"{name}_joint" for name in JOINT_NAMES),
    }
)

LEISAAC_USD_LIMITS_DEG: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "shoulder_pan": (-110.0, 110.0),
        "shoulder_lift": (-100.0, 100.0),
        "elbow_flex": (-100.0, 90.0),
        "wrist_flex": (-95.0, 95.0),
        "wrist_roll": (-160.0, 160.0),
        "gripper": (-10.0, 100.0),
    }
)
"""LeIsaac's SO101_FOLLOWER_USD_JOINT_LIMLITS (sic), identical to the workshop's SO101_USD_MAPPING."""


class SimUnits(Enum):
    PHYSICAL = "physical"
    LEISAAC = "leisaac"


@dataclass(frozen=True)
class SimMappingConfig:
    """What a mapping is made of: sim joint names (in JOINT_NAMES order), units, optional tweaks."""

    names: tuple[str, ...] = JOINT_NAMES
    units: SimUnits = SimUnits.PHYSICAL
    scale: Mapping[str, float] = field(default_factory=dict)
    offset: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        if len(self.names) != len(JOINT_NAMES) or len(set(self.names)) != len(self.names):
            raise ValueError(f"need {len(JOINT_NAMES)} distinct sim joint names, got {self.names}")
        for what, values in (("scale", self.scale), ("offset", self.offset)):
            unknown = set(values) - set(JOINT_NAMES)
            if unknown:
                raise ValueError(f"{what} for unknown joint(s) {sorted(unknown)}; joints are {', '.join(JOINT_NAMES)}")
            for joint, value in values.items():
                if not math.isfinite(value) or (what == "scale" and value == 0):
                    raise ValueError(f"{what} of {joint} must be finite{' and non-zero' if what == 'scale' else ''}")
            object.__setattr__(self, what, MappingProxyType(dict(values)))


@dataclass(frozen=True, eq=False)  # numpy fields: compare the arrays, not the objects
class SimMapping:
    """sim = scale · rad + offset per joint; values in the order of `names` (the sim's names)."""

    names: tuple[str, ...]
    scale: np.ndarray
    offset: np.ndarray

    def __post_init__(self) -> None:
        for name in ("scale", "offset"):
            array = np.array(getattr(self, name), dtype=np.float64)
            if array.shape != (len(JOINT_NAMES),) or not np.all(np.isfinite(array)):
                raise ValueError(f"{name} needs one finite value per joint, got {array}")
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        if np.any(self.scale == 0):
            raise ValueError(f"a zero scale cannot be inverted, got {self.scale}")

    def to_sim(self, radians: np.ndarray) -> np.ndarray:
        """ROS radians (..., 6) in JOINT_NAMES order → sim values in `names` order."""
        return np.asarray(radians, dtype=np.float64) * self.scale + self.offset

    def from_sim(self, values: np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
        """Sim values → ROS radians in JOINT_NAMES order.

        `names` is the order of `values` (e.g. a JointState's name list); by default `self.names`.
        Names the mapping does not know are ignored (other joints of the scene); a missing one raises.
        """
        array = np.asarray(values, dtype=np.float64)
        if names is not None:
            index = {name: i for i, name in enumerate(names)}
            missing = [name for name in self.names if name not in index]
            if missing:
                raise ValueError(f"sim joint(s) {', '.join(missing)} missing from {list(names)}")
            array = array[..., [index[name] for name in self.names]]
        return (array - self.offset) / self.scale


def build_sim_mapping(config: SimMappingConfig, calibration: ArmCalibration | None = None) -> SimMapping:
    """The mapping `config` describes; the leisaac units need the arm's calibration."""
    if config.units is SimUnits.LEISAAC:
        if calibration is None:
            raise ValueError(
                "the leisaac units map the calibrated range onto the USD limits: pass the arm's calibration"
            )
        base_scale, base_offset = _leisaac_affine(calibration)
    else:
        base_scale, base_offset = np.ones(len(JOINT_NAMES)), np.zeros(len(JOINT_NAMES))
    scale = np.array([config.scale.get(name, 1.0) for name in JOINT_NAMES])
    offset = np.array([config.offset.get(name, 0.0) for name in JOINT_NAMES])
    return SimMapping(config.names, base_scale * scale, base_offset * scale + offset)


def load_sim_mapping_config(path: str | Path) -> SimMappingConfig:
    """Read a custom mapping from YAML (format in the module doc); ValueError names the file and key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the sim mapping: {exc}") from None
    try:
        return sim_mapping_config_from_dict(data if data is not None else {})
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def sim_mapping_config_from_dict(data: Any) -> SimMappingConfig:
    if not isinstance(data, dict):
        raise ValueError("a sim mapping must be a mapping with names, units, scale, offset")
    unknown = set(data) - {"names", "units", "scale", "offset"}
    if unknown:
        raise ValueError(f"unknown key(s) {sorted(unknown)}; a sim mapping has names, units, scale, offset")
    units_text = data.get("units", SimUnits.PHYSICAL.value)
    try:
        units = SimUnits(units_text)
    except ValueError:
        raise ValueError(f"units {units_text!r} unknown; use {' or '.join(u.value for u in SimUnits)}") from None
    return SimMappingConfig(
        _names(data.get("names", "so101")), units, _per_joint(data, "scale"), _per_joint(data, "offset")
    )


def _names(spec: Any) -> tuple[str, ...]:
    if isinstance(spec, str):
        if spec not in SIM_JOINT_NAMES:
            raise ValueError(f"names preset {spec!r} unknown; presets are {', '.join(SIM_JOINT_NAMES)}")
        return SIM_JOINT_NAMES[spec]
    if not isinstance(spec, dict) or set(spec) != set(JOINT_NAMES):
        raise ValueError(f"names must be a preset or map every joint ({', '.join(JOINT_NAMES)}) to a sim name")
    if not all(isinstance(name, str) and name for name in spec.values()):
        raise ValueError("every sim joint name must be a non-empty string")
    return tuple(spec[joint] for joint in JOINT_NAMES)


def _per_joint(data: dict, key: str) -> dict[str, float]:
    values = data.get(key) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{key} must map joint names to numbers")
    for joint, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} of {joint} must be a number, got {value!r}")
    return {joint: float(value) for joint, value in values.items()}


def _leisaac_affine(calibration: ArmCalibration) -> tuple[np.ndarray, np.ndarray]:
    """LeIsaac's map as scale and offset on ROS radians.

    With t = mid + rad · 4095 / 2π (units.py), the range fraction is 0.5 + rad · 4095 / (2π · span),
    mirrored by drive_mode as LeRobot's RANGE modes are, and deg = j_lo + (j_hi − j_lo) · fraction.
    """
    span = (calibration.column("range_max") - calibration.column("range_min")).astype(np.float64)
    direction = np.where(calibration.column("drive_mode") == 1, -1.0, 1.0)
    limits = np.array([LEISAAC_USD_LIMITS_DEG[name] for name in JOINT_NAMES]).T
    usd_span = np.deg2rad(limits[1] - limits[0])
    scale = usd_span * direction * TICKS_PER_TURN / (2 * np.pi * span)
    offset = np.deg2rad(limits[0]) + usd_span / 2
    return scale, offset
