"""Read demos back from an Isaac Lab HDF5 file (checks, replays, tests), in the file's sim units."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from so101_sim_bridge.recorder.hdf5_writer import DATA, DEMO_PREFIX, INITIAL_JOINT_POSITION, JOINT_POSITION


@dataclass(frozen=True, eq=False)
class Hdf5Demo:
    """One data/demo_<i> group, fully loaded."""

    index: int
    num_samples: int
    seed: int
    success: bool
    instruction: str
    actions: np.ndarray
    joint_pos: np.ndarray
    state_joint_position: np.ndarray
    initial_joint_position: np.ndarray
    images: dict[str, np.ndarray]


@dataclass(frozen=True)
class Hdf5Dataset:
    total: int
    env_args: dict[str, Any]
    demos: tuple[Hdf5Demo, ...]


def read_hdf5_demos(path: str | Path) -> Hdf5Dataset:
    """Every demo of the file, ordered by index (loads all arrays: meant for modest files)."""
    with h5py.File(path, "r") as main:
        data = main[DATA]
        names = sorted((name for name in data if name.startswith(DEMO_PREFIX)), key=lambda n: int(n[len(DEMO_PREFIX):]))
        demos = tuple(_read_demo(data[name], int(name[len(DEMO_PREFIX):])) for name in names)
        return Hdf5Dataset(int(data.attrs["total"]), json.loads(data.attrs["env_args"]), demos)


def _read_demo(group: h5py.Group, index: int) -> Hdf5Demo:
    attrs = group.attrs
    obs = group["obs"]
    return Hdf5Demo(
        index=index,
        num_samples=int(attrs["num_samples"]),
        seed=int(attrs["seed"]),
        success=bool(attrs["success"]),
        instruction=str(attrs.get("instruction", "")),
        actions=group["actions"][()],
        joint_pos=obs["joint_pos"][()],
        state_joint_position=group[JOINT_POSITION][()],
        initial_joint_position=group[INITIAL_JOINT_POSITION][()],
        images={name: obs[name][()] for name in obs if obs[name].ndim == 4},
    )
