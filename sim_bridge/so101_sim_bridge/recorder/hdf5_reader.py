"""Read demos back from an Isaac Lab HDF5 file (checks, converters, tests), in the file's sim units.

Demos are returned in index order (demo_2 before demo_10, unlike h5py's alphabetical walk). Each
leaf of a demo group is available by its path (`demo["obs/ee_frame_state"]`); the common ones
also have a name. read_hdf5_demos loads every array (meant for modest files); the converters
read frames camera by camera instead.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from so101_sim_bridge.recorder.hdf5_writer import DATA, DEMO_PREFIX, INITIAL_JOINT_POSITION, JOINT_POSITION

DEMO_NAME = re.compile(rf"{DEMO_PREFIX}(\d+)$")


@dataclass(frozen=True, eq=False)
class Hdf5Demo:
    """One data/demo_<i> group, fully loaded: every dataset by its path, and the attributes."""

    index: int
    arrays: dict[str, np.ndarray]
    attrs: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def __contains__(self, key: str) -> bool:
        return key in self.arrays

    @property
    def num_samples(self) -> int:
        return int(self.attrs["num_samples"])

    @property
    def seed(self) -> int:
        return int(self.attrs["seed"])

    @property
    def success(self) -> bool:
        return bool(self.attrs["success"])

    @property
    def instruction(self) -> str:
        return str(self.attrs.get("instruction", ""))

    @property
    def actions(self) -> np.ndarray:
        return self.arrays["actions"]

    @property
    def joint_pos(self) -> np.ndarray:
        return self.arrays["obs/joint_pos"]

    @property
    def state_joint_position(self) -> np.ndarray:
        return self.arrays[JOINT_POSITION]

    @property
    def initial_joint_position(self) -> np.ndarray:
        return self.arrays[INITIAL_JOINT_POSITION]

    @property
    def images(self) -> dict[str, np.ndarray]:
        """obs/<camera> → (T, H, W, 3) uint8."""
        return {key[len("obs/"):]: value for key, value in self.arrays.items()
                if key.startswith("obs/") and value.ndim == 4 and value.dtype == np.uint8}


@dataclass(frozen=True)
class Hdf5Dataset:
    total: int
    env_args: dict[str, Any]
    demos: tuple[Hdf5Demo, ...]


def demo_names(data: h5py.Group) -> list[str]:
    """The demo_<i> groups of /data, in index order."""
    return sorted((name for name in data if DEMO_NAME.match(name)), key=lambda name: int(name[len(DEMO_PREFIX):]))


def read_hdf5_demos(path: str | Path) -> Hdf5Dataset:
    """Every demo of the file, ordered by index (loads all arrays)."""
    with h5py.File(path, "r") as main:
        data = main[DATA]
        demos = tuple(_read_demo(data[name], int(name[len(DEMO_PREFIX):])) for name in demo_names(data))
        return Hdf5Dataset(int(data.attrs["total"]), json.loads(data.attrs["env_args"]), demos)


def _read_demo(group: h5py.Group, index: int) -> Hdf5Demo:
    arrays: dict[str, np.ndarray] = {}
    group.visititems(lambda name, item: arrays.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    return Hdf5Demo(index=index, arrays=arrays, attrs={key: _plain(value) for key, value in group.attrs.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
