"""Isaac Lab / LeIsaac HDF5 demos (docs/reference/isaac-sim.md §4), written so a crash never costs saved demos.

Layout (the one Isaac Lab's HDF5DatasetFileHandler and LeIsaac's tools read)::

    /data                        attrs: total (samples in all demos), env_args (JSON)
    /data/demo_<i>               attrs: num_samples, seed, success (+ instruction, dropped_steps, late_samples)
        actions                                 (T, 6) float32
        obs/joint_pos                           (T, 6) float32
        obs/<camera>                            (T, H, W, 3) uint8
        states/articulation/robot/joint_position  (T, 6) float32
        initial_state/articulation/robot/joint_position  (1, 6) float32
        intervention                            (T, 1) bool, when recorded: True while an operator corrected

Joint values are in the simulator's names and units (a SimMapping: default the `so101` names in
physical radians, i.e. ROS radians unchanged; `leisaac` units for LeIsaac's USD), since Isaac Lab
replays and augments them in the simulator. env_args records the names, units and cameras.

Crash safety. HDF5 is not journaled: a process killed while a file is open for writing can leave
it unreadable, all of it. So the main file is never open while an episode records. Each episode
streams into its own staging file beside it (`<name>.recording`; chunked, lzf, flushed every
`flush_every` steps); stop copies the finished episode into the main file as data/demo_<i> and sets
its attributes, closes the main file and deletes the staging file. SIGKILL while recording leaves
the main file closed and intact and a stale staging file, which the next writer on that path
deletes (the unfinished episode is dropped, with a warning). The only window is the copy at stop,
which is short and checked for free space first. While recording, an episode is stopped with
DiskFullError before free space falls below min_free_bytes, because HDF5 handles a write that fails
on a full disk badly (the file cannot be closed cleanly); ENOSPC itself is still reported the same way.

Resume: with resume=True an existing file gets new demos numbered after its highest demo_<i>,
and `total` keeps counting; without it an existing path is an error rather than an overwrite.
A file this writer created and saved no demo into is removed by close(), so a session that
recorded nothing does not block the path for the next one.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from so101_calibration import SimMapping, SimMappingConfig, build_sim_mapping
from so101_sim_bridge.recorder.episode import EpisodeInfo, EpisodeOutcome, Step
from so101_sim_bridge.recorder.errors import DiskFullError, OutputExistsError, RecorderError, RecorderStateError
from so101_sim_bridge.recorder.rate import DEFAULT_FPS, checked_fps
from so101_sim_bridge.recorder.storage import free_bytes, is_disk_full

log = logging.getLogger(__name__)

DATA = "data"
DEMO_PREFIX = "demo_"
ENV_TYPE_MANAGER_BASED = 2
"""Isaac Lab's EnvType value LeIsaac writes in env_args ("type": 2)."""
JOINT_POSITION = "states/articulation/robot/joint_position"
INITIAL_JOINT_POSITION = "initial_state/articulation/robot/joint_position"
INTERVENTION = "intervention"
COMMIT_SPACE_MARGIN = 1.1
"""Free space needed to copy an episode into the main file, relative to its staging file."""
_UNCLOSABLE: list[h5py.File] = []
"""Staging files whose close failed on a full disk. HDF5 can crash the process when such a file
object is freed later, so they are kept referenced until the process exits."""


@dataclass(frozen=True)
class Hdf5WriterConfig:
    """Where and how to write. flush_every and lzf follow LeIsaac's recorder (100 steps, lzf)."""

    path: Path
    resume: bool = False
    env_name: str = "so101-seed-demo"
    flush_every: int = 100
    compression: str = "lzf"
    fps: int = DEFAULT_FPS
    min_free_bytes: int = 64 * 1024 * 1024
    """Stop the episode cleanly (DiskFullError) before free space drops below this plus the next
    flush's worth of steps: HDF5 copes badly with a write failing on a full disk."""
    extra_env_args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        checked_fps(self.fps)
        if self.flush_every < 1:
            raise ValueError(f"flush_every must be >= 1 step, got {self.flush_every}")

    @property
    def staging_path(self) -> Path:
        return self.path.with_name(self.path.name + ".recording")


class Hdf5DemoWriter:
    """EpisodeWriter for one Isaac Lab HDF5 file."""

    def __init__(self, config: Hdf5WriterConfig, mapping: SimMapping | None = None):
        self._config = config
        self._mapping = mapping if mapping is not None else build_sim_mapping(SimMappingConfig())
        self._staging: h5py.File | None = None
        self._info: EpisodeInfo | None = None
        self._steps = 0
        self._created = not config.path.exists()
        self._saved = 0
        self._next_demo = self._open_or_create()

    @property
    def path(self) -> Path:
        return self._config.path

    @property
    def next_demo_index(self) -> int:
        return self._next_demo

    def begin_episode(self, info: EpisodeInfo) -> None:
        if self._staging is not None:
            raise RecorderStateError(f"{self.path}: an episode is already being recorded")
        self._info = info
        self._steps = 0
        self._staging = self._guard(lambda: h5py.File(self._config.staging_path, "w"), "starting an episode")

    def append(self, step: Step) -> None:
        staging = self._require_episode()
        self._check_free_space(step)
        self._guard(lambda: self._write_step(staging, step), f"writing step {step.index}")

    def end_episode(self, outcome: EpisodeOutcome) -> str | None:
        staging = self._require_episode()
        if self._steps == 0:
            log.warning("%s: episode has no complete step; nothing saved", self.path)
            self.abort_episode()
            return None
        self._guard(staging.close, "closing the episode")
        self._staging = None
        try:
            name = self._commit(outcome)
        finally:
            self._config.staging_path.unlink(missing_ok=True)
        self._next_demo += 1
        self._saved += 1
        return name

    def abort_episode(self) -> None:
        if self._staging is not None:
            try:
                self._staging.close()
            except (OSError, RuntimeError) as exc:  # a full disk can fail the close too; the file goes anyway
                log.warning("%s: closing the dropped episode failed: %s", self.path, exc)
                _UNCLOSABLE.append(self._staging)
            self._staging = None
        self._config.staging_path.unlink(missing_ok=True)

    def close(self) -> None:
        self.abort_episode()
        if self._created and not self._saved:
            self._config.path.unlink(missing_ok=True)

    # --- internals -------------------------------------------------------------------------

    def _open_or_create(self) -> int:
        config = self._config
        if config.staging_path.exists():
            log.warning("%s: dropping an unfinished episode left by a crash (%s)", config.path, config.staging_path)
            config.staging_path.unlink()
        if config.path.exists():
            if not config.resume:
                raise OutputExistsError(
                    f"{config.path} already exists; pass resume=True to append demos to it, or choose another path"
                )
            return self._existing_next_index()
        config.path.parent.mkdir(parents=True, exist_ok=True)

        def create() -> None:
            with h5py.File(config.path, "w") as main:
                data = main.create_group(DATA)
                data.attrs["total"] = 0
                data.attrs["env_args"] = json.dumps(self._env_args())

        self._guard(create, "creating the file")
        return 0

    def _existing_next_index(self) -> int:
        path = self._config.path
        try:
            with h5py.File(path, "r") as main:
                if DATA not in main:
                    raise RecorderError(f"{path} is not an Isaac Lab demo file (no /{DATA} group); cannot resume it")
                env_args = json.loads(main[DATA].attrs.get("env_args", "{}"))
                indices = [int(name[len(DEMO_PREFIX):]) for name in main[DATA] if name.startswith(DEMO_PREFIX)]
        except OSError as exc:
            raise RecorderError(f"{path} cannot be opened for resuming: {exc}") from None
        recorded_names = env_args.get("joint_names")
        if recorded_names is not None and list(recorded_names) != list(self._mapping.names):
            raise RecorderError(
                f"{path} holds joints {recorded_names}, but this recorder writes {list(self._mapping.names)}; "
                "resume with the same sim mapping, or write a new file"
            )
        return max(indices, default=-1) + 1

    def _env_args(self) -> dict[str, Any]:
        return {
            "env_name": self._config.env_name,
            "type": ENV_TYPE_MANAGER_BASED,
            "joint_names": list(self._mapping.names),
            "fps": self._config.fps,
            "source": "so101_sim_bridge",
            **self._config.extra_env_args,
        }

    def _require_episode(self) -> h5py.File:
        if self._staging is None:
            raise RecorderStateError(f"{self.path}: no episode is being recorded")
        return self._staging

    def _write_step(self, staging: h5py.File, step: Step) -> None:
        joints = self._mapping.to_sim(step.joint_position).astype(np.float32)
        rows = {
            "actions": self._mapping.to_sim(step.action).astype(np.float32),
            "obs/joint_pos": joints,
            JOINT_POSITION: joints,
            **{f"obs/{camera}": image for camera, image in step.images.items()},
        }
        if step.intervention is not None:
            rows[INTERVENTION] = np.array([step.intervention])
        if self._steps == 0:
            staging.create_dataset(INITIAL_JOINT_POSITION, data=joints[np.newaxis])
            for name, row in rows.items():
                staging.create_dataset(
                    name,
                    shape=(0, *row.shape),
                    maxshape=(None, *row.shape),
                    dtype=row.dtype,
                    chunks=(1, *row.shape) if row.ndim == 3 else (self._config.flush_every, *row.shape),
                    compression=self._config.compression,
                )
        for name, row in rows.items():
            dataset = staging[name]
            if dataset.shape[1:] != row.shape:
                raise RecorderError(f"{self.path}: {name} changed shape from {dataset.shape[1:]} to {row.shape}")
            dataset.resize(self._steps + 1, axis=0)
            dataset[self._steps] = row
        self._steps += 1
        if self._steps % self._config.flush_every == 0:
            staging.flush()

    def _check_free_space(self, step: Step) -> None:
        step_bytes = 2 * step.joint_position.nbytes + sum(image.nbytes for image in step.images.values())
        needed = self._config.min_free_bytes + step_bytes * self._config.flush_every
        if free_bytes(self._config.staging_path) < needed:
            self.abort_episode()
            raise DiskFullError(
                f"less than {needed} bytes free in {self._config.path.parent}: the episode is dropped before the "
                f"disk fills up; demos already saved in {self._config.path.name} are intact. "
                "Free some space, then record again."
            )

    def _commit(self, outcome: EpisodeOutcome) -> str:
        """Copy the closed staging file into the main file as the next demo (module doc)."""
        config = self._config
        needed = int(config.staging_path.stat().st_size * COMMIT_SPACE_MARGIN)
        if free_bytes(config.path) < needed:
            raise DiskFullError(
                f"not enough free space to save the episode into {config.path} (needs about {needed} bytes); "
                "the episode is dropped, the demos already in the file are intact. Free some space and record again."
            )
        name = f"{DEMO_PREFIX}{self._next_demo}"
        info = self._info

        def copy() -> None:
            with h5py.File(config.staging_path, "r") as staging, h5py.File(config.path, "a") as main:
                data = main[DATA]
                demo = data.create_group(name)
                for key in staging:
                    staging.copy(staging[key], demo, name=key)
                demo.attrs.update(
                    {
                        "num_samples": self._steps,
                        "seed": info.seed,
                        "success": outcome.success,
                        "instruction": info.instruction,
                        "dropped_steps": outcome.dropped_steps,
                        "late_samples": outcome.late_samples,
                    }
                )
                data.attrs["total"] = int(data.attrs["total"]) + self._steps

        self._guard(copy, f"saving {name}")
        return f"{DATA}/{name}"

    def _guard(self, action, what: str):
        """Run an h5py action; a full disk drops the episode and raises DiskFullError naming what is safe."""
        try:
            return action()
        except (OSError, RuntimeError, ValueError) as exc:
            if not is_disk_full(exc):
                raise
            self.abort_episode()
            raise DiskFullError(
                f"disk full while {what} in {self._config.path.parent}: the unfinished episode is dropped; "
                f"demos already saved in {self._config.path.name} are intact. Free some space, then record again."
            ) from exc
