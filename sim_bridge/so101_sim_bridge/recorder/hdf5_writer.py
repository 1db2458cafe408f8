"""Isaac Lab / LeIsaac HDF5 demos (docs/reference/datasets-mimic.md §1), written so a crash never costs saved demos.

File (the one Isaac Lab's HDF5DatasetFileHandler and LeIsaac's tools read)::

    /data                        attrs: total (samples in all demos), env_args (JSON)
    /data/demo_<i>               attrs: num_samples, seed, success (+ instruction, dropped_steps,
                                 late_samples, recorded_steps, subtask_annotation, subtask_marks)

Each demo group is laid out by isaaclab_layout.py (actions, obs/*, states/*, initial_state/*,
datagen_info with a task). Joint values are in the simulator's names and units (a SimMapping:
default the `so101` names in physical radians, i.e. ROS radians unchanged; `leisaac` units for
LeIsaac's USD), since Isaac Lab replays and augments them in the simulator. env_args records
env_name (the task's gym id), type 2, the profile, task, rates, joint names, the sim mapping's
scale and offset (so a reader can convert back to radians), the robot's mount pose and cameras.

Crash safety. HDF5 is not journaled: a process killed while a file is open for writing can leave
it unreadable, all of it. So the main file is never open while an episode records. Each episode
streams, as recorded (stamps, joints, commands, object poses in ROS units, camera frames), into
its own staging file beside it (`<name>.recording`; chunked, lzf; frames as they come, the small
per-step values in blocks of `flush_every` steps, flushed each block); stop lays the finished
episode out into the main file as data/demo_<i> and sets its attributes, closes the main file and
deletes the staging file. SIGKILL while recording leaves the main file closed and intact and the
staging file, which holds the episode up to its last block. It is never deleted: the next writer on that path refuses to start without resume, saying
so, and with resume recovers the episode into the file as the next demo with success=false and
`recovered`=true (an unreadable one is renamed aside, `<name>.recording.unreadable-<time>`). The
only window is the lay-out at stop, which is short and checked for free space first. While recording, an episode is stopped with
DiskFullError before free space falls below min_free_bytes, because HDF5 handles a write that fails
on a full disk badly (the file cannot be closed cleanly); ENOSPC itself is still reported the same way.

Resume: with resume=True an existing file gets new demos numbered after its highest demo_<i>,
and `total` keeps counting; without it an existing path is an error rather than an overwrite.
A file this writer created and saved no demo into is removed by close(), so a session that
recorded nothing does not block the path for the next one.

Provenance (so101_sim_bridge.provenance): with a manifest in the config, every demo laid out
also rewrites the file's manifest (the root dataset `provenance`, in the same open) and its card
beside it, so the file describes itself after any crash. A resumed file is the step's in-place
source: its content hash and its earlier manifest are taken before anything is changed.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from so101_calibration import SimMapping, SimMappingConfig, build_sim_mapping
from so101_sim_bridge.provenance import Manifest, source_of, write_hdf5_provenance
from so101_sim_bridge.recorder.episode import EpisodeInfo, EpisodeOutcome, Step
from so101_sim_bridge.recorder.errors import DiskFullError, OutputExistsError, RecorderError, RecorderStateError
from so101_sim_bridge.recorder.isaaclab_layout import IsaacLabLayout, LayoutConfig, RawEpisode
from so101_sim_bridge.recorder.rate import DEFAULT_FPS, checked_fps
from so101_sim_bridge.recorder.storage import free_bytes, is_disk_full

log = logging.getLogger(__name__)

DATA = "data"
DEMO_PREFIX = "demo_"
ENV_TYPE_MANAGER_BASED = 2
"""Isaac Lab's EnvType value LeIsaac writes in env_args ("type": 2)."""
JOINT_POSITION = "states/articulation/robot/joint_position"
INITIAL_JOINT_POSITION = "initial_state/articulation/robot/joint_position"
RAW = "raw"
"""The staging file's per-step record: stamp, joint_position, joint_velocity, action, objects/<name>, and
intervention when the recorder tracks who drove."""
IMAGES = "images"
COMMIT_SPACE_MARGIN = 1.1
"""Free space needed to lay an episode out into the main file, relative to what it will take."""
_UNCLOSABLE: list[h5py.File] = []
"""Staging files whose close failed on a full disk. HDF5 can crash the process when such a file
object is freed later, so they are kept referenced until the process exits."""


IMAGE_COMPRESSIONS = ("none", "lzf", "gzip")
"""The filters every HDF5 reader has (h5py registers lzf itself; gzip is HDF5's deflate)."""


def check_image_compression(compression: str, gzip_level: int) -> None:
    """ValueError unless `compression` is one of IMAGE_COMPRESSIONS and `gzip_level` within 1..9."""
    if compression not in IMAGE_COMPRESSIONS:
        raise ValueError(f"image compression {compression!r} unknown; one of {', '.join(IMAGE_COMPRESSIONS)}")
    if not 1 <= gzip_level <= 9:
        raise ValueError(f"gzip level must be within 1..9, got {gzip_level}")


@dataclass(frozen=True)
class Hdf5WriterConfig:
    """Where and how to write. flush_every and lzf for the joint and pose arrays follow LeIsaac's recorder.

    Camera frames are stored without compression by default: lzf took 14 ms of CPU per 640x480
    frame here for 12 % less space on camera noise, gzip level 1 16 ms for 33 % less, where a raw
    frame takes 0.6 ms (README "Recording"); two cameras at 30 fps in lzf need most of a core.
    image_compression chooses: none (fastest, 0.9 MB per 640x480 frame), lzf, or gzip at gzip_level.
    """

    path: Path
    resume: bool = False
    layout: LayoutConfig = LayoutConfig()
    flush_every: int = 100
    compression: str = "lzf"
    image_compression: str = "none"
    gzip_level: int = 4
    """deflate level 1..9 for image_compression gzip (HDF5's default 4)."""
    fps: int = DEFAULT_FPS
    min_free_bytes: int = 64 * 1024 * 1024
    """Stop the episode cleanly (DiskFullError) before free space drops below this plus the next
    flush's worth of steps: HDF5 copes badly with a write failing on a full disk."""
    extra_env_args: Mapping[str, Any] = field(default_factory=dict)
    provenance: Manifest | None = None
    """The step's manifest (module doc); None writes none."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        checked_fps(self.fps)
        if self.flush_every < 1:
            raise ValueError(f"flush_every must be >= 1 step, got {self.flush_every}")
        check_image_compression(self.image_compression, self.gzip_level)

    @property
    def staging_path(self) -> Path:
        return self.path.with_name(self.path.name + ".recording")

    @property
    def image_options(self) -> dict[str, Any]:
        """h5py create_dataset keywords for camera frames."""
        if self.image_compression == "none":
            return {}
        if self.image_compression == "gzip":
            return {"compression": "gzip", "compression_opts": self.gzip_level}
        return {"compression": self.image_compression}


class Hdf5DemoWriter:
    """EpisodeWriter for one Isaac Lab HDF5 file."""

    def __init__(self, config: Hdf5WriterConfig, mapping: SimMapping | None = None):
        self._config = config
        self._mapping = mapping if mapping is not None else build_sim_mapping(SimMappingConfig())
        self._staging: h5py.File | None = None
        self._info: EpisodeInfo | None = None
        self._steps = 0
        self._datasets: dict[str, h5py.Dataset] = {}
        self._pending: dict[str, list[np.ndarray]] = {}
        """Per-step values not yet in the staging file (module doc: written in blocks)."""
        self._created = not config.path.exists()
        self._saved = 0
        self._layout = IsaacLabLayout(config.layout, self._mapping, config.fps)
        self._provenance = config.provenance
        if self._provenance is not None and config.resume and config.path.exists():
            self._provenance = self._provenance.with_sources(source_of(config.path, config.path, in_place=True))
        self._next_demo = self._open_or_create()

    @property
    def path(self) -> Path:
        return self._config.path

    @property
    def next_demo_index(self) -> int:
        return self._next_demo

    @property
    def provenance(self) -> Manifest | None:
        """The manifest written with each demo (a resumed file: with its earlier content as an in-place source)."""
        return self._provenance

    def begin_episode(self, info: EpisodeInfo) -> None:
        if self._staging is not None:
            raise RecorderStateError(f"{self.path}: an episode is already being recorded")
        self._info = info
        self._steps = 0
        self._staging = self._guard(lambda: h5py.File(self._config.staging_path, "w"), "starting an episode")
        self._staging.attrs.update({"instruction": info.instruction, "seed": info.seed})  # for a crash recovery

    def append(self, step: Step) -> None:
        staging = self._require_episode()
        self._check_free_space(step)
        self._guard(lambda: self._write_step(staging, step), f"writing step {step.index}")

    def end_episode(self, outcome: EpisodeOutcome) -> str | None:
        staging = self._require_episode()
        if self._steps < 2:
            log.warning("%s: episode has %d complete step(s), too few for a demo (its last step is a state "
                        "only); nothing saved", self.path, self._steps)
            self.abort_episode()
            return None
        self._guard(self._write_pending, "writing the episode's last steps")
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
        self._pending, self._datasets = {}, {}
        self._config.staging_path.unlink(missing_ok=True)

    def close(self) -> None:
        self.abort_episode()
        if self._created and not self._saved:
            self._config.path.unlink(missing_ok=True)

    # --- internals -------------------------------------------------------------------------

    def _open_or_create(self) -> int:
        config = self._config
        unfinished = config.staging_path.exists()
        if not config.resume and unfinished:
            raise OutputExistsError(
                f"{config.staging_path} holds an unfinished episode left by a crash (nothing was deleted). Resume "
                f"(resume=True) to recover it into {config.path.name} as a failed demo and append new ones, or "
                "choose another path"
            )
        if config.path.exists():
            if not config.resume:
                raise OutputExistsError(
                    f"{config.path} already exists; resume (resume=True) to append demos to it, or choose another path"
                )
            next_index = self._existing_next_index()
        else:
            config.path.parent.mkdir(parents=True, exist_ok=True)

            def create() -> None:
                with h5py.File(config.path, "w") as main:
                    data = main.create_group(DATA)
                    data.attrs["total"] = 0
                    data.attrs["env_args"] = json.dumps(self._env_args())

            self._guard(create, "creating the file")
            next_index = 0
        return self._recover(next_index) if unfinished else next_index

    def _recover(self, index: int) -> int:
        """Lay a crash's unfinished episode out into the file as demo `index` (success=false); the next free index."""
        config = self._config
        staging = config.staging_path
        name = f"{DEMO_PREFIX}{index}"
        try:
            with h5py.File(staging, "r") as source:
                raw = _raw_episode(source)  # up to the last step every dataset holds
                attrs = {"seed": int(source.attrs.get("seed", 0)), "success": False, "recovered": True,
                         "instruction": str(source.attrs.get("instruction", "")), "recorded_steps": len(raw)}
                rows = self._layout.rows(raw) if len(raw) >= 2 else 0
                if rows:
                    self._lay_out(source, name, raw, attrs)
        except (OSError, KeyError, ValueError, RuntimeError) as exc:  # what h5py raises for a torn file
            aside = staging.with_name(f"{staging.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
            staging.rename(aside)
            log.warning("%s: the unfinished episode left by a crash cannot be recovered (%s); kept as %s",
                        config.path, exc, aside)
            return index
        staging.unlink()
        if not rows:
            log.warning("%s: the episode left by a crash had too few complete steps; nothing to recover", config.path)
            return index
        log.warning("%s: recovered the episode left by a crash (%d steps) as %s/%s with success=false",
                    config.path, len(raw), DATA, name)
        return index + 1

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
        ours = self._env_args()
        for key in ("joint_names", "sim_mapping", "profile", "task", "fps"):
            if key in env_args and env_args[key] != ours[key]:
                raise RecorderError(
                    f"{path} was recorded with {key} {env_args[key]!r}, but this recorder writes {ours[key]!r}; "
                    "resume with the same settings, or write a new file"
                )
        return max(indices, default=-1) + 1

    def _env_args(self) -> dict[str, Any]:
        return {
            "type": ENV_TYPE_MANAGER_BASED,
            "source": "so101_sim_bridge",
            **self._layout.env_args(),
            **self._config.extra_env_args,
        }

    def _require_episode(self) -> h5py.File:
        if self._staging is None:
            raise RecorderStateError(f"{self.path}: no episode is being recorded")
        return self._staging

    def _write_step(self, staging: h5py.File, step: Step) -> None:
        """Stage one step: its camera frames at once (bounded memory), the small per-step values in
        blocks of flush_every rows (one h5py call per dataset and block instead of per step: at 60
        rows/s the per-call cost dominated). The blocks left are written before the staging file closes."""
        missing = set(self._layout.config.objects) - set(step.object_poses)
        if missing:
            raise RecorderError(f"{self.path}: step {step.index} has no pose of {sorted(missing)} (the task's objects)")
        rows = {
            f"{RAW}/stamp": np.float64(step.stamp_s),
            f"{RAW}/joint_position": np.asarray(step.joint_position, np.float64),
            f"{RAW}/joint_velocity": np.asarray(step.velocity, np.float64),
            f"{RAW}/action": np.asarray(step.action, np.float64),
            **{f"{RAW}/objects/{name}": np.asarray(step.object_poses[name], np.float64)
               for name in self._layout.config.objects},
        }
        if step.intervention is not None:
            rows[f"{RAW}/intervention"] = np.array([step.intervention])
        images = {f"{IMAGES}/{camera}": image for camera, image in step.images.items()}
        if self._steps == 0:
            self._datasets = {}
            self._pending = {name: [] for name in rows}
            for name, row in {**rows, **images}.items():
                image = name in images
                self._datasets[name] = staging.create_dataset(
                    name,
                    shape=(0, *row.shape),
                    maxshape=(None, *row.shape),
                    dtype=row.dtype,
                    chunks=(1, *row.shape) if image else (self._config.flush_every, *row.shape),
                    **(self._config.image_options if image else {"compression": self._config.compression}),
                )
        if set(rows) | set(images) != set(self._datasets):
            raise RecorderError(f"{self.path}: step {step.index} has {sorted(images)} but the episode began with "
                                f"{sorted(name for name in self._datasets if name.startswith(IMAGES))}")
        for name, image in images.items():
            dataset = self._datasets[name]
            if dataset.shape[1:] != np.shape(image):
                raise RecorderError(f"{self.path}: {name} changed shape from {dataset.shape[1:]} to {image.shape}")
            dataset.resize(self._steps + 1, axis=0)
            dataset[self._steps] = image
        for name, row in rows.items():
            if self._pending[name] and np.shape(self._pending[name][0]) != np.shape(row):
                raise RecorderError(f"{self.path}: {name} changed shape from {np.shape(self._pending[name][0])} "
                                    f"to {np.shape(row)}")
            self._pending[name].append(row)
        self._steps += 1
        if self._steps % self._config.flush_every == 0:
            self._write_pending()
            staging.flush()

    def _write_pending(self) -> None:
        """The buffered per-step values into the staging file, one block per dataset."""
        for name, block in self._pending.items():
            if block:
                dataset = self._datasets[name]
                start = len(dataset)
                dataset.resize(start + len(block), axis=0)
                dataset[start:] = np.stack(block)
                block.clear()

    def _check_free_space(self, step: Step) -> None:
        step_bytes = 8 * step.joint_position.nbytes + sum(image.nbytes for image in step.images.values())
        needed = self._config.min_free_bytes + step_bytes * self._config.flush_every
        if free_bytes(self._config.staging_path) < needed:
            self.abort_episode()
            raise DiskFullError(
                f"less than {needed} bytes free in {self._config.path.parent}: the episode is dropped before the "
                f"disk fills up; demos already saved in {self._config.path.name} are intact. "
                "Free some space, then record again."
            )

    def _commit(self, outcome: EpisodeOutcome) -> str:
        """Lay the closed staging file out into the main file as the next demo (module doc)."""
        config = self._config
        raw = self._read_raw(outcome)
        growth = max(1.0, self._layout.rows(raw) / max(1, len(raw) - 1))  # resampled rows repeat frames
        needed = int(config.staging_path.stat().st_size * growth * COMMIT_SPACE_MARGIN)
        if free_bytes(config.path) < needed:
            raise DiskFullError(
                f"not enough free space to save the episode into {config.path} (needs about {needed} bytes); "
                "the episode is dropped, the demos already in the file are intact. Free some space and record again."
            )
        name = f"{DEMO_PREFIX}{self._next_demo}"
        info = self._info
        attrs = {**info.attributes, "seed": info.seed, "success": outcome.success, "instruction": info.instruction,
                 "dropped_steps": outcome.dropped_steps, "late_samples": outcome.late_samples,
                 "recorded_steps": self._steps}

        def lay_out() -> None:
            with h5py.File(config.staging_path, "r") as staging:
                self._lay_out(staging, name, raw, attrs)

        self._guard(lay_out, f"saving {name}")
        return f"{DATA}/{name}"

    def _lay_out(self, staging: h5py.File, name: str, raw: RawEpisode, attrs: Mapping[str, Any]) -> None:
        """The staged episode as data/<name> with its attributes; `total` counts its rows.

        A demo that fails half-way is removed again, so the file never holds a torn demo.
        """
        with h5py.File(self._config.path, "a") as main:
            data = main[DATA]
            demo = data.create_group(name)
            try:
                images = dict(staging[IMAGES]) if IMAGES in staging else {}
                attributes = self._layout.write(demo, raw, images, self._config.compression, self._config.image_options)
                demo.attrs.update({**attributes, **attrs})
            except BaseException:
                del data[name]
                raise
            data.attrs["total"] = int(data.attrs["total"]) + int(attributes["num_samples"])
            if self._provenance is not None:
                write_hdf5_provenance(main, self._provenance)

    def _read_raw(self, outcome: EpisodeOutcome) -> RawEpisode:
        """The staged episode's per-step record (small: the frames stay in the staging file)."""
        with h5py.File(self._config.staging_path, "r") as staging:
            return replace(_raw_episode(staging), marks_s=outcome.subtask_marks_s)

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


def _raw_episode(staging: h5py.File) -> RawEpisode:
    """The staging file's per-step record, cut to the steps every dataset holds (a crash can leave one
    dataset a step ahead of another); the frames stay in the file."""
    raw = staging[RAW]
    objects = raw.get("objects", {})
    interventions = raw.get("intervention")
    series = [raw["stamp"], raw["joint_position"], raw["joint_velocity"], raw["action"],
              *(objects[name] for name in objects), *(staging[IMAGES].values() if IMAGES in staging else ()),
              *([interventions] if interventions is not None else [])]
    steps = min(len(item) for item in series)
    return RawEpisode(
        stamps_s=raw["stamp"][:steps],
        joints=raw["joint_position"][:steps],
        velocities=raw["joint_velocity"][:steps],
        actions=raw["action"][:steps],
        objects={name: objects[name][:steps] for name in objects},
        interventions=interventions[:steps] if interventions is not None else None,
    )
