"""Read one recorded episode's actions for replay, from either format the recorder writes.

(a) Isaac Lab / LeIsaac HDF5: /data/demo_<i>/actions, (T, 6) float32 in JOINT_NAMES order.
    Our recorder writes env_args["fps"] (its rows per second) and env_args["sim_mapping"] (the
    joints' sim units as sim = scale · rad + offset), so its files replay at their own rate and
    in radians whatever units they hold; a file without them (another recorder) is taken as
    radians at 30 Hz.
(b) LeRobot v3 dataset: meta/info.json (fps; features.action names "<joint>.pos") and
    data/chunk-*/file-*.parquet with one row per frame (columns action, episode_index,
    frame_index, ...). LeRobot does not record whether actions are degrees or normalized
    (use_degrees is a robot setting, not a dataset field), so the caller must say which.

Either way a given `fps` overrides the recorded rate (to replay slower or faster on purpose).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from so101_calibration import JOINT_NAMES
from so101_policy.embodiment.joint_units import JointUnits
from so101_policy.errors import DatasetError

DEFAULT_HDF5_FPS = 30.0
LEROBOT_UNITS = (JointUnits.DEGREES, JointUnits.NORMALIZED)
_DEMO = re.compile(r"demo_(\d+)$")


@dataclass(frozen=True, eq=False)
class RecordedEpisode:
    actions: np.ndarray
    """(T, 6) float64 in `units`, JOINT_NAMES order."""
    units: JointUnits
    fps: float
    source: str
    """e.g. "demos.hdf5:/data/demo_3", for log lines and errors."""


def read_episode(
    path: str | Path, episode: int | None = None, lerobot_units: JointUnits | None = None, fps: float | None = None
) -> RecordedEpisode:
    """A LeRobot dataset (a directory with meta/info.json) or an Isaac Lab HDF5 file; episode None = the first.

    `lerobot_units` is required for, and only for, LeRobot datasets; `fps` overrides the rate the
    dataset records (None: the recorded one).
    """
    root = Path(path)
    if fps is not None and not fps > 0:
        raise DatasetError(f"fps must be positive, got {fps}")
    if root.is_dir():
        if lerobot_units is None:
            raise DatasetError(
                f"{root}: LeRobot datasets do not record whether actions are degrees (use_degrees=True) or "
                "normalized −100..100 (use_degrees=False); say which (--units degrees|normalized)"
            )
        recorded = read_lerobot_episode(root, episode, lerobot_units)
        return recorded if fps is None else replace(recorded, fps=float(fps))
    if root.is_file():
        if lerobot_units is not None:
            raise DatasetError(f"{root}: Isaac Lab HDF5 actions are radians; --units applies to LeRobot datasets only")
        return read_isaaclab_episode(root, episode, fps)
    raise DatasetError(f"no dataset at {root} (expected an HDF5 file or a LeRobot dataset directory)")


def read_isaaclab_episode(path: Path, episode: int | None, fps: float | None = None) -> RecordedEpisode:
    """An HDF5 demo's actions in radians, at `fps` (None: the file's env_args fps, else DEFAULT_HDF5_FPS)."""
    import h5py  # needed for this format only

    try:
        with h5py.File(path, "r") as file:
            demos = _demo_indices(file, path)
            env_args = _env_args(file, path)
            index = demos[0] if episode is None else episode
            if index not in demos:
                raise DatasetError(f"{path}: no /data/demo_{index}; episodes are {demos}")
            group = file[f"data/demo_{index}"]
            if "actions" not in group:
                raise DatasetError(f"{path}: /data/demo_{index} has no 'actions' dataset")
            actions = np.asarray(group["actions"], dtype=np.float64)
    except OSError as exc:
        raise DatasetError(f"{path}: not a readable HDF5 file ({exc})") from None
    source = f"{path.name}:/data/demo_{index}"
    actions = _checked(actions, source)
    mapping = env_args.get("sim_mapping")
    if mapping is not None:  # the recorder's sim units back to radians
        actions = (actions - np.asarray(mapping["offset"])) / np.asarray(mapping["scale"])
    rate = fps if fps is not None else float(env_args.get("fps", DEFAULT_HDF5_FPS))
    return RecordedEpisode(actions, JointUnits.RADIANS, rate, source)


def read_lerobot_episode(root: Path, episode: int | None, units: JointUnits) -> RecordedEpisode:
    import pyarrow as pa  # needed for this format only
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if units not in LEROBOT_UNITS:
        raise DatasetError(f"{root}: LeRobot datasets hold degrees or normalized values, not {units.value}")
    info = _read_info(root)
    order = _action_columns(info, root)
    files = sorted((root / "data").glob("chunk-*/file-*.parquet"))
    if not files:
        raise DatasetError(f"{root}: no data/chunk-*/file-*.parquet files")
    try:
        table = pa.concat_tables(pq.read_table(f, columns=["episode_index", "frame_index", "action"]) for f in files)
    except (pa.ArrowException, OSError) as exc:
        raise DatasetError(f"{root}: cannot read the episode_index, frame_index and action columns ({exc})") from None
    episodes = sorted(table.column("episode_index").unique().to_pylist())
    wanted = episodes[0] if episode is None and episodes else episode
    rows = table.filter(pc.equal(table.column("episode_index"), wanted))
    if rows.num_rows == 0:
        raise DatasetError(f"{root}: no frames of episode {wanted}; episodes are {episodes}")
    rows = rows.sort_by("frame_index")
    column = rows.column("action")
    width = len(_action_names(info))
    if pc.any(pc.not_equal(pc.list_value_length(column), width)).as_py():
        raise DatasetError(f"{root}: action rows of episode {wanted} do not all have {width} values")
    flat = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.float64)
    source = f"{root.name} episode {wanted}"
    actions = _checked(flat.reshape(rows.num_rows, -1)[:, order], source)
    return RecordedEpisode(actions, units, float(info["fps"]), source)


def _action_names(info: dict) -> list:
    names = info.get("features", {}).get("action", {}).get("names")
    return names if isinstance(names, list) else []


def _demo_indices(file, path: Path) -> list[int]:
    if "data" not in file:
        raise DatasetError(f"{path}: no /data group (not an Isaac Lab / LeIsaac demo file)")
    demos = sorted(int(m.group(1)) for name in file["data"] if (m := _DEMO.match(name)))
    if not demos:
        raise DatasetError(f"{path}: /data holds no demo_<i> groups")
    return demos


def _env_args(file, path: Path) -> dict:
    try:
        return json.loads(file["data"].attrs.get("env_args", "{}"))
    except (TypeError, json.JSONDecodeError):
        raise DatasetError(f"{path}: /data's env_args is not JSON") from None


def _read_info(root: Path) -> dict:
    try:
        info = json.loads((root / "meta" / "info.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{root}: cannot read meta/info.json ({exc})") from None
    if not isinstance(info.get("fps"), (int, float)) or not info["fps"] > 0:
        raise DatasetError(f"{root}: meta/info.json has no positive 'fps'")
    return info


def _action_columns(info: dict, root: Path) -> list[int]:
    """Position of each joint in the action vector, from the feature names ("shoulder_pan.pos", ...)."""
    names = _action_names(info)
    try:
        return [names.index(f"{joint}.pos") for joint in JOINT_NAMES]
    except ValueError:
        raise DatasetError(
            f"{root}: features.action.names {names} must name every SO-101 joint as '<joint>.pos' "
            f"({', '.join(JOINT_NAMES)})"
        ) from None


def _checked(actions: np.ndarray, source: str) -> np.ndarray:
    if actions.ndim != 2 or actions.shape[0] == 0 or actions.shape[1] != len(JOINT_NAMES):
        raise DatasetError(f"{source}: need (T, {len(JOINT_NAMES)}) actions with T >= 1, got shape {actions.shape}")
    if not np.all(np.isfinite(actions)):
        raise DatasetError(f"{source}: actions hold NaN or infinite values")
    return actions
