"""Reading our Isaac Lab HDF5 files for the dataset tools: opening with clear errors, units back to radians.

The recorder writes joints in the simulator's units and records the affine map it used
(env_args["sim_mapping"]: sim = scale · rad + offset), so every tool converts back to physical
radians (ROS radians, what forward kinematics and LeRobot's units start from) without the
arm's calibration. A file from another recorder without that map is taken as radians
(env_args sim_units "physical" or absent), which the tools say.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from so101_sim_bridge.datasets.errors import DatasetError
from so101_sim_bridge.recorder.hdf5_reader import demo_names
from so101_sim_bridge.recorder.hdf5_writer import DATA


@dataclass(frozen=True, eq=False)
class FileUnits:
    """The file's sim units as sim = scale · rad + offset per joint."""

    scale: np.ndarray
    offset: np.ndarray
    recorded: bool
    """False: the file does not say (taken as radians)."""

    def to_radians(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=np.float64) - self.offset) / self.scale

    def velocity_to_radians(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.float64) / self.scale


def file_units(env_args: dict[str, Any]) -> FileUnits:
    mapping = env_args.get("sim_mapping")
    if mapping is None:
        if env_args.get("sim_units", "physical") != "physical":
            raise DatasetError(
                f"the file's joints are in {env_args['sim_units']!r} units but it does not record their mapping "
                "(env_args.sim_mapping); re-record it with this stack's recorder"
            )
        return FileUnits(np.ones(6), np.zeros(6), recorded=False)
    return FileUnits(np.asarray(mapping["scale"], dtype=np.float64), np.asarray(mapping["offset"], dtype=np.float64),
                     recorded=True)


def open_demo_file(path: Path, mode: str = "r") -> h5py.File:
    """The HDF5 file with a /data group; DatasetError naming the problem otherwise."""
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"{path} is a folder (a LeRobot dataset?); this command takes an Isaac Lab HDF5 file")
    if not path.is_file():
        raise DatasetError(f"no file {path}")
    try:
        file = h5py.File(path, mode)
    except OSError as exc:
        raise DatasetError(f"{path} is not a readable HDF5 file ({exc})") from None
    if DATA not in file:
        file.close()
        raise DatasetError(f"{path} has no /data group: not an Isaac Lab demo file")
    return file


def env_args_of(file: h5py.File) -> dict[str, Any]:
    text = file[DATA].attrs.get("env_args")
    if text is None:
        return {}
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError):
        raise DatasetError(f"{file.filename}: /data's env_args is not JSON") from None


def demos(file: h5py.File) -> list[h5py.Group]:
    """The demo groups in index order."""
    return [file[DATA][name] for name in demo_names(file[DATA])]
