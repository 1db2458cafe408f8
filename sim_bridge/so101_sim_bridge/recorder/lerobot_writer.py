"""LeRobot v3.0 dataset writer (docs/reference/lerobot.md §9), readable by LeRobot 0.4.4's LeRobotDataset.

Layout::

    meta/info.json  meta/stats.json  meta/tasks.parquet
    meta/episodes/chunk-000/file-000.parquet
    data/chunk-000/file-000.parquet
    videos/observation.images.<camera>/chunk-000/file-000.mp4

Features: `observation.state` (the observed joints) and `action` as float32 vectors named
`<joint>.pos`, in LeRobot units from ROS radians through so101_calibration's UnitConverter
(use_degrees=True: arm joints in degrees; False: -100..100; the gripper 0..100 either way), one
video per camera, and LeRobot's timestamp/frame_index/episode_index/index/task_index. The episode's
instruction is its task. Timestamps are frame_index / fps, as LeRobot's own recorder writes them.
When the recorder tracks who drove, `intervention` (bool, shape (1,): True while an operator
corrected the policy) is a feature too, as LeRobot's DAgger rollouts write it
(docs/reference/datasets-mimic.md §4).

Only successful episodes are kept unless include_failed is set (the Isaac Lab file keeps failed
ones with success=false; a policy should not learn from them). Episodes are appended to the data
and video files as they are kept, rolling to a new file past the size limits; the metadata is
written by close(), which must run for the dataset to be loadable, like LeRobot's finalize().
A session that kept no episode leaves no dataset behind (an empty one would only block the folder
for the next session, since datasets are not resumed). With a manifest in the config, close()
also writes provenance.json and the card README.md beside meta/ (so101_sim_bridge.provenance).
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from so101_calibration import JOINT_NAMES, UnitConverter
from so101_sim_bridge.provenance import Manifest, write_folder_provenance
from so101_sim_bridge.recorder.episode import EpisodeInfo, EpisodeOutcome, Step
from so101_sim_bridge.recorder.errors import OutputExistsError, RecorderError, RecorderStateError
from so101_sim_bridge.recorder.rate import DEFAULT_FPS, checked_fps
from so101_sim_bridge.recorder.stats import FeatureStats, aggregate_stats, image_stats, stats_to_json, vector_stats
from so101_sim_bridge.recorder.video import EpisodeVideo, Mp4Appender, VideoConfig, probe_video_info

CODEBASE_VERSION = "v3.0"
CHUNK_FILE = "chunk-{chunk_index:03d}/file-{file_index:03d}"
DATA_PATH = "data/" + CHUNK_FILE + ".parquet"
VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE + ".mp4"
EPISODES_PATH = "meta/episodes/" + CHUNK_FILE.format(chunk_index=0, file_index=0) + ".parquet"
STATE = "observation.state"
ACTION = "action"
IMAGE_PREFIX = "observation.images."
JOINT_FEATURE_NAMES = [f"{name}.pos" for name in JOINT_NAMES]
INDEX_FEATURES = ("frame_index", "episode_index", "index", "task_index")
INTERVENTION = "intervention"
STATS_IMAGE_SIDE = 150
"""Frames are subsampled to about this many pixels a side for image stats, as LeRobot does."""
_SCRATCH = ".recording"


@dataclass(frozen=True)
class LeRobotWriterConfig:
    root: Path
    fps: int = DEFAULT_FPS
    robot_type: str = "so_follower"
    video: VideoConfig = field(default_factory=VideoConfig)
    include_failed: bool = False
    image_stats_stride: int = 5
    """Every n-th frame of an episode feeds the image stats."""
    data_file_size_mb: float = 100.0
    video_file_size_mb: float = 200.0
    chunks_size: int = 1000
    provenance: Manifest | None = None
    """The step's manifest, written with the metadata; None writes none."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        checked_fps(self.fps)
        if self.image_stats_stride < 1:
            raise ValueError(f"image_stats_stride must be >= 1, got {self.image_stats_stride}")


class _FileSeries:
    """chunk-XXX/file-YYY numbering: a new file once the current one reaches its size limit."""

    def __init__(self, limit_mb: float, chunks_size: int):
        self._limit_bytes = limit_mb * 1024 * 1024
        self._chunks_size = chunks_size
        self.number = 0

    def indices(self) -> dict[str, int]:
        return {"chunk_index": self.number // self._chunks_size, "file_index": self.number % self._chunks_size}

    def full(self, path: Path) -> bool:
        return path.exists() and path.stat().st_size >= self._limit_bytes


@dataclass
class _Episode:
    info: EpisodeInfo
    states: list[np.ndarray] = field(default_factory=list)
    actions: list[np.ndarray] = field(default_factory=list)
    interventions: list[bool] = field(default_factory=list)
    videos: dict[str, EpisodeVideo] = field(default_factory=dict)
    image_samples: dict[str, list[np.ndarray]] = field(default_factory=dict)


class LeRobotDatasetWriter:
    """EpisodeWriter for one LeRobot v3.0 dataset directory (a new one: there is no resume)."""

    def __init__(self, config: LeRobotWriterConfig, units: UnitConverter):
        self._config = config
        self._units = units
        root = config.root
        if root.exists() and any(root.iterdir()):
            raise OutputExistsError(f"{root} already exists and is not empty; choose a new dataset directory")
        (root / _SCRATCH).mkdir(parents=True, exist_ok=True)
        self._episode: _Episode | None = None
        self._cameras: dict[str, tuple[int, int, int]] | None = None  # name -> (height, width, channels)
        self._tasks: dict[str, int] = {}
        self._episodes: list[dict[str, Any]] = []
        self._stats: list[dict[str, FeatureStats]] = []
        self._frames = 0
        self._intervention = False
        """Whether the steps carry an intervention flag (the feature is declared once one does)."""
        self._data_files = _FileSeries(config.data_file_size_mb, config.chunks_size)
        self._data_writer: pq.ParquetWriter | None = None
        self._video_files: dict[str, _FileSeries] = {}
        self._appenders: dict[str, Mp4Appender] = {}
        self._closed = False

    @property
    def root(self) -> Path:
        return self._config.root

    def begin_episode(self, info: EpisodeInfo) -> None:
        if self._episode is not None:
            raise RecorderStateError(f"{self.root}: an episode is already being recorded")
        self._episode = _Episode(info)

    def append(self, step: Step) -> None:
        episode = self._require_episode()
        self._check_cameras(step)
        for camera, image in step.images.items():
            if camera not in episode.videos:
                height, width, _ = image.shape
                path = self.root / _SCRATCH / f"{camera}.mp4"
                episode.videos[camera] = EpisodeVideo(path, width, height, self._config.fps, self._config.video)
                episode.image_samples[camera] = []
            episode.videos[camera].add(image)
            if step.index % self._config.image_stats_stride == 0:
                episode.image_samples[camera].append(_downsample(image))
        episode.states.append(step.joint_position)
        episode.actions.append(step.action)
        if step.intervention is not None:
            episode.interventions.append(step.intervention)
            self._intervention = True

    def end_episode(self, outcome: EpisodeOutcome) -> str | None:
        episode = self._require_episode()
        if not episode.states or not (outcome.success or self._config.include_failed):
            self.abort_episode()
            return None
        frames = {camera: video.close() for camera, video in episode.videos.items()}
        self._episode = None
        return self._save(episode, frames)

    def abort_episode(self) -> None:
        if self._episode is not None:
            for video in self._episode.videos.values():
                video.close()
            self._episode = None

    def close(self) -> None:
        """Write the metadata (LeRobot's finalize); without it the dataset cannot be loaded."""
        if self._closed:
            return
        self.abort_episode()
        if self._data_writer is not None:
            self._data_writer.close()
        for appender in self._appenders.values():
            appender.close()
        shutil.rmtree(self.root / _SCRATCH, ignore_errors=True)
        if self._episodes:
            self._write_metadata()
            if self._config.provenance is not None:
                write_folder_provenance(self.root, self._config.provenance, show_progress=False)
        elif not any(self.root.iterdir()):
            self.root.rmdir()
        self._closed = True

    # --- internals -------------------------------------------------------------------------

    def _require_episode(self) -> _Episode:
        if self._episode is None:
            raise RecorderStateError(f"{self.root}: no episode is being recorded")
        return self._episode

    def _check_cameras(self, step: Step) -> None:
        shapes = {camera: tuple(image.shape) for camera, image in step.images.items()}
        if self._cameras is None:
            self._cameras = shapes
        elif shapes != self._cameras:
            raise RecorderError(f"{self.root}: cameras changed from {self._cameras} to {shapes} within the dataset")

    def _save(self, episode: _Episode, frames: dict[str, int]) -> str:
        fps = self._config.fps
        length = len(episode.states)
        index = len(self._episodes)
        task = self._tasks.setdefault(episode.info.instruction, len(self._tasks))
        frame_index = np.arange(length, dtype=np.int64)
        columns = {
            STATE: self._units.radians_to_normalized(np.array(episode.states)).astype(np.float32),
            ACTION: self._units.radians_to_normalized(np.array(episode.actions)).astype(np.float32),
            "timestamp": (frame_index / fps).astype(np.float32),
            "frame_index": frame_index,
            "episode_index": np.full(length, index, dtype=np.int64),
            "index": self._frames + frame_index,
            "task_index": np.full(length, task, dtype=np.int64),
        }
        if self._intervention:
            columns[INTERVENTION] = np.array(episode.interventions, dtype=bool)
        row: dict[str, Any] = {
            "episode_index": index,
            "tasks": [episode.info.instruction],
            "length": length,
            **{f"data/{k}": v for k, v in self._append_data(columns).items()},
            "dataset_from_index": self._frames,
            "dataset_to_index": self._frames + length,
        }
        for camera, count in frames.items():
            if count != length:
                raise RecorderError(f"{self.root}: camera {camera} has {count} frames for {length} steps")
            key = IMAGE_PREFIX + camera
            indices, (start_s, end_s) = self._append_video(key, self.root / _SCRATCH / f"{camera}.mp4", count)
            row.update({f"videos/{key}/{k}": v for k, v in indices.items()})
            row[f"videos/{key}/from_timestamp"] = start_s
            row[f"videos/{key}/to_timestamp"] = end_s
        row.update({"meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0})
        stats = {name: vector_stats(values) for name, values in columns.items()}
        stats.update({IMAGE_PREFIX + c: image_stats(np.array(s)) for c, s in episode.image_samples.items()})
        row.update({f"stats/{f}/{k}": v.tolist() for f, values in stats.items() for k, v in values.items()})
        self._episodes.append(row)
        self._stats.append(stats)
        self._frames += length
        return f"episode_{index}"

    def _append_data(self, columns: dict[str, np.ndarray]) -> dict[str, int]:
        table = pa.table(
            {
                name: pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])
                if values.ndim == 2
                else pa.array(values)
                for name, values in columns.items()
            }
        )
        path = self.root / DATA_PATH.format(**self._data_files.indices())
        if self._data_writer is not None and self._data_files.full(path):
            self._data_writer.close()
            self._data_writer = None
            self._data_files.number += 1
            path = self.root / DATA_PATH.format(**self._data_files.indices())
        if self._data_writer is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._data_writer = pq.ParquetWriter(path, table.schema, compression="snappy", use_dictionary=True)
        self._data_writer.write_table(table)
        return self._data_files.indices()

    def _append_video(self, key: str, episode_file: Path, frames: int) -> tuple[dict[str, int], tuple[float, float]]:
        series = self._video_files.setdefault(key, _FileSeries(self._config.video_file_size_mb, self._config.chunks_size))
        appender = self._appenders.get(key)
        if appender is not None and series.full(appender.path):
            appender.close()
            series.number += 1
            appender = None
        if appender is None:
            path = self.root / VIDEO_PATH.format(video_key=key, **series.indices())
            appender = self._appenders[key] = Mp4Appender(path, self._config.fps)
        span = appender.append(episode_file, frames)
        episode_file.unlink()
        return series.indices(), span

    def _write_metadata(self) -> None:
        meta = self.root / "meta"
        (meta / "episodes").mkdir(parents=True, exist_ok=True)
        tasks = pd.DataFrame({"task_index": list(self._tasks.values())}, index=pd.Index(list(self._tasks), name="task"))
        tasks.to_parquet(meta / "tasks.parquet")
        if self._episodes:
            episodes_file = self.root / EPISODES_PATH
            episodes_file.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(self._episodes), episodes_file)
            features = list(self._stats[0])
            stats = {f: aggregate_stats([episode[f] for episode in self._stats]) for f in features}
            (meta / "stats.json").write_text(json.dumps(stats_to_json(stats), indent=4))
        (meta / "info.json").write_text(json.dumps(self._info(), indent=4))

    def _info(self) -> dict[str, Any]:
        joint_feature = {"dtype": "float32", "shape": [len(JOINT_NAMES)], "names": JOINT_FEATURE_NAMES}
        features: dict[str, Any] = {ACTION: joint_feature, STATE: dict(joint_feature)}
        for camera, shape in (self._cameras or {}).items():
            key = IMAGE_PREFIX + camera
            video = self.root / VIDEO_PATH.format(video_key=key, chunk_index=0, file_index=0)
            features[key] = {"dtype": "video", "shape": list(shape), "names": ["height", "width", "channels"]}
            if video.exists():  # no file when every episode was left out
                features[key]["info"] = probe_video_info(video)
        features["timestamp"] = {"dtype": "float32", "shape": [1], "names": None}
        features.update({name: {"dtype": "int64", "shape": [1], "names": None} for name in INDEX_FEATURES})
        if self._intervention:
            features[INTERVENTION] = {"dtype": "bool", "shape": [1], "names": None}
        return {
            "codebase_version": CODEBASE_VERSION,
            "robot_type": self._config.robot_type,
            "total_episodes": len(self._episodes),
            "total_frames": self._frames,
            "total_tasks": len(self._tasks),
            "chunks_size": self._config.chunks_size,
            "data_files_size_in_mb": self._config.data_file_size_mb,
            "video_files_size_in_mb": self._config.video_file_size_mb,
            "fps": self._config.fps,
            "splits": {"train": f"0:{len(self._episodes)}"},
            "data_path": DATA_PATH,
            "video_path": VIDEO_PATH if self._cameras else None,
            "features": features,
            "units": "degrees" if self._units.use_degrees else "range_m100_100",
        }


def _downsample(image: np.ndarray) -> np.ndarray:
    """A small copy for the image stats (a strided view would keep the whole frame alive until close)."""
    factor = max(1, max(image.shape[:2]) // STATS_IMAGE_SIDE)
    return image[::factor, ::factor].copy()
