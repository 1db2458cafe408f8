"""`so101-dataset to-gr00t LEROBOT_DIR OUT`: a LeRobot v3 dataset in the layout Isaac-GR00T fine-tunes on.

Isaac-GR00T's loader reads LeRobot v2.1 only (docs/reference/datasets-mimic.md §4, §5), so this
writes, from our v3 dataset:

    meta/info.json            codebase_version v2.1, legacy data_path/video_path, total_chunks, total_videos
    meta/episodes.jsonl       {"episode_index", "tasks", "length"}
    meta/tasks.jsonl          {"task_index", "task"}
    meta/episodes_stats.jsonl {"episode_index", "stats"}
    meta/stats.json           per feature mean, std, min, max, q01, q99 (what GR00T uses as is) and the rest
    meta/modality.json        SO-101: state/action single_arm [0:5], gripper [5:6]; each camera; the task
    data/chunk-XXX/episode_XXXXXX.parquet                    one per episode (`index` stays global)
    videos/chunk-XXX/observation.images.<cam>/episode_XXXXXX.mp4   one per episode, H.264

Videos are decoded from the shared v3 files and re-encoded per episode with H.264 (the recorder's
encoder, GOP 2, no B-frames): decord cannot read AV1, LeRobot's default, and cutting a shared
file with a stream copy can add a leading frame, which GR00T's decoding by index turns into an
offset. Frames are assigned to episodes by their time within the shared file (from/to_timestamp).

Its provenance (provenance.json and the card README.md at the top) is a conversion step whose
source is the v3 dataset (its content hash and manifest), with the task that manifest names.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import av
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.progress import Progress

from so101_calibration import JOINT_NAMES
from so101_sim_bridge.datasets.errors import DatasetError
from so101_sim_bridge.datasets.output import refuse_existing, whole_output
from so101_sim_bridge.provenance import (
    CONVERSION,
    UserFields,
    load_user_fields,
    new_manifest,
    source_of,
    write_folder_provenance,
)
from so101_sim_bridge.recorder.lerobot_writer import ACTION, IMAGE_PREFIX, STATE
from so101_sim_bridge.recorder.video import EpisodeVideo, VideoConfig, probe_video_info

V21 = "v2.1"
DATA_PATH = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
VIDEO_PATH = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
ARM = len(JOINT_NAMES) - 1
"""single_arm is the five arm joints, gripper the sixth (the SO-100/101 example's modality.json)."""
TIME_TOLERANCE_S = 1e-4
"""LeRobot's own tolerance when it locates frames by timestamp."""
V3_ONLY_INFO_KEYS = ("data_files_size_in_mb", "video_files_size_in_mb")


def modality(cameras: list[str]) -> dict[str, Any]:
    """GR00T's meta/modality.json for an SO-101 dataset with these camera names."""
    arm_and_gripper = {"single_arm": {"start": 0, "end": ARM}, "gripper": {"start": ARM, "end": ARM + 1}}
    return {
        "state": {name: dict(span, original_key=STATE) for name, span in arm_and_gripper.items()},
        "action": {name: dict(span, original_key=ACTION) for name, span in arm_and_gripper.items()},
        "video": {camera: {"original_key": IMAGE_PREFIX + camera} for camera in cameras},
        "annotation": {"human.task_description": {"original_key": "task_index"}},
    }


def lerobot_to_gr00t(source: Path, out: Path, show_progress: bool = True, user: UserFields | None = None) -> int:
    """Write the GR00T layout of `source` at `out` (whole or not at all); the number of episodes.

    `user`: the provenance's user fields (default: the provenance file's)."""
    source = Path(source)
    info = _read_v3_info(source)
    refuse_existing(Path(out))  # before hashing the source
    origin = source_of(source, out, show_progress=show_progress)
    settings = {"layout": "LeRobot v2.1 + meta/modality.json (Isaac-GR00T)", "video_codec": "h264",
                "video_encoding": "per episode, re-encoded from the v3 files"}
    manifest = new_manifest(CONVERSION, "so101-dataset to-gr00t", settings, user=user or load_user_fields(),
                            task=origin.manifest.task if origin.manifest is not None else None, sources=(origin,))
    episodes = pq.read_table(source / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    episodes.sort(key=lambda e: e["episode_index"])
    if not episodes:
        raise DatasetError(f"{source}: the dataset has no episode")
    cameras = [key for key, feature in info["features"].items() if feature.get("dtype") == "video"]
    chunks = int(info["chunks_size"])
    with whole_output(out) as partial, Progress(disable=not show_progress, transient=True) as progress:
        frames_bar = progress.add_task("GR00T export: videos (H.264)", total=info["total_frames"] * len(cameras))
        _write_data(source, partial, episodes, chunks)
        for key in cameras:
            _write_videos(source, partial, info, episodes, key, chunks, progress, frames_bar)
        _write_meta(source, partial, info, episodes, cameras, chunks)
        write_folder_provenance(partial, manifest, name=Path(out).name, show_progress=show_progress)
    return len(episodes)


def _read_v3_info(source: Path) -> dict[str, Any]:
    if source.is_file():
        raise DatasetError(f"{source} is a file; to-gr00t takes a LeRobot v3 dataset folder (so101-dataset to-lerobot "
                           "makes one from an HDF5 file)")
    try:
        info = json.loads((source / "meta/info.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{source}: no readable meta/info.json ({exc}); not a LeRobot dataset folder") from None
    if info.get("codebase_version") != "v3.0":
        raise DatasetError(f"{source}: codebase_version {info.get('codebase_version')!r}; to-gr00t converts LeRobot "
                           "v3.0 datasets (a v2.1 one is GR00T's layout already: add meta/modality.json)")
    for meta in ("meta/episodes/chunk-000/file-000.parquet", "meta/tasks.parquet", "meta/stats.json"):
        if not (source / meta).exists():
            raise DatasetError(f"{source}: no {meta} (a dataset whose writer was not closed is not complete)")
    return info


def _write_data(source: Path, out: Path, episodes: list[dict], chunks: int) -> None:
    files = sorted((source / "data").glob("chunk-*/file-*.parquet"))
    table = pa.concat_tables(pq.read_table(f) for f in files)
    for episode in episodes:
        index = episode["episode_index"]
        rows = table.filter(pc.equal(table.column("episode_index"), index)).sort_by("frame_index")
        if rows.num_rows != episode["length"]:
            raise DatasetError(f"{source}: episode {index} has {rows.num_rows} rows, its index says {episode['length']}")
        path = out / DATA_PATH.format(episode_chunk=index // chunks, episode_index=index)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(rows, path)


def _write_videos(source: Path, out: Path, info: dict, episodes: list[dict], key: str, chunks: int,
                  progress: Progress, bar) -> None:
    """Decode each shared v3 file once, handing every frame to the episode whose time span holds it."""
    by_file: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for episode in episodes:
        by_file[(episode[f"videos/{key}/chunk_index"], episode[f"videos/{key}/file_index"])].append(episode)
    fps = int(info["fps"])
    for (chunk_index, file_index), members in sorted(by_file.items()):
        shared = source / info["video_path"].format(video_key=key, chunk_index=chunk_index, file_index=file_index)
        writers: dict[int, EpisodeVideo] = {}
        try:
            with av.open(str(shared)) as container:
                stream = container.streams.video[0]
                for frame in container.decode(stream):
                    t = float(frame.pts * stream.time_base)
                    episode = next((e for e in members if e[f"videos/{key}/from_timestamp"] - TIME_TOLERANCE_S <= t
                                    < e[f"videos/{key}/to_timestamp"] - TIME_TOLERANCE_S), None)
                    if episode is None:
                        continue
                    index = episode["episode_index"]
                    if index not in writers:
                        path = out / VIDEO_PATH.format(episode_chunk=index // chunks, video_key=key, episode_index=index)
                        path.parent.mkdir(parents=True, exist_ok=True)
                        writers[index] = EpisodeVideo(path, frame.width, frame.height, fps, VideoConfig("h264"))
                    writers[index].add(frame.to_ndarray(format="rgb24"))
                    progress.advance(bar)
        finally:
            counts = {index: writer.close() for index, writer in writers.items()}
        for episode in members:
            if counts.get(episode["episode_index"], 0) != episode["length"]:
                raise DatasetError(f"{shared}: episode {episode['episode_index']} has "
                                   f"{counts.get(episode['episode_index'], 0)} frames for {episode['length']} rows")


def _write_meta(source: Path, out: Path, info: dict, episodes: list[dict], cameras: list[str], chunks: int) -> None:
    meta = out / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    tasks = pq.read_table(source / "meta/tasks.parquet").to_pandas()
    _jsonl(meta / "tasks.jsonl", [{"task_index": int(row.task_index), "task": str(task)} for task, row in tasks.iterrows()])
    _jsonl(meta / "episodes.jsonl", [{"episode_index": e["episode_index"], "tasks": list(e["tasks"]), "length": e["length"]}
                                     for e in episodes])
    _jsonl(meta / "episodes_stats.jsonl", [{"episode_index": e["episode_index"], "stats": _episode_stats(e)}
                                           for e in episodes])
    (meta / "stats.json").write_text((source / "meta/stats.json").read_text())
    (meta / "modality.json").write_text(json.dumps(modality([c[len(IMAGE_PREFIX):] for c in cameras]), indent=4))
    legacy = {key: value for key, value in info.items() if key not in V3_ONLY_INFO_KEYS}
    features = {}
    for key, feature in info["features"].items():
        feature = {k: v for k, v in feature.items() if not (k == "fps" and feature.get("dtype") != "video")}
        if feature.get("dtype") == "video":
            first = out / VIDEO_PATH.format(episode_chunk=0, video_key=key, episode_index=episodes[0]["episode_index"])
            feature["info"] = probe_video_info(first)
        features[key] = feature
    legacy.update({
        "codebase_version": V21,
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if cameras else None,
        "total_chunks": -(-len(episodes) // chunks),
        "total_videos": len(episodes) * len(cameras),
        "features": features,
    })
    (meta / "info.json").write_text(json.dumps(legacy, indent=4))


def _episode_stats(episode: dict) -> dict[str, dict[str, Any]]:
    """The v3 episode row's stats/<feature>/<stat> columns, nested as v2.1's episodes_stats.jsonl holds them."""
    stats: dict[str, dict[str, Any]] = defaultdict(dict)
    for column, value in episode.items():
        if column.startswith("stats/"):
            _, feature, stat = column.split("/", 2)
            stats[feature][stat] = np.asarray(value).tolist() if value is not None else None
    return dict(stats)


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
