"""The checks behind `validate --for lerobot` (LeRobot v3.0) and `--for gr00t` (Isaac-GR00T's v2.1 reader)."""
from __future__ import annotations

import json
from pathlib import Path

import av
import pyarrow.parquet as pq

from so101_sim_bridge.datasets.report import Report

GR00T_STATS = ("mean", "std", "min", "max", "q01", "q99")
UNREADABLE_BY_DECORD = ("av1", "libdav1d", "libaom-av1")


def check_lerobot_folder(path: Path, report: Report, target: str) -> None:
    if path.is_file():
        report.problems.append(f"{path} is a file; {target} reads a LeRobot dataset folder "
                               + ("(convert it: so101-dataset to-lerobot)" if target == "lerobot" else
                                  "(so101-dataset to-lerobot, then to-gr00t)"))
        return
    try:
        info = json.loads((path / "meta" / "info.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        report.problems.append(f"no readable meta/info.json in {path} ({exc})")
        return
    version = info.get("codebase_version")
    if target == "lerobot":
        if version != "v3.0":
            report.problems.append(f"codebase_version {version!r}: LeRobot 0.4+ loads v3.0 only")
            return
        _lerobot_v3(path, info, report)
    else:
        if version != "v2.1":
            report.problems.append(f"codebase_version {version!r}: Isaac-GR00T's loader reads LeRobot v2.1 only "
                                   "(convert: so101-dataset to-gr00t)")
            return
        _gr00t(path, info, report)


def _lerobot_v3(path: Path, info: dict, report: Report) -> None:
    problems = report.problems
    for key in ("fps", "features", "data_path", "total_episodes", "total_frames", "chunks_size"):
        if key not in info:
            problems.append(f"meta/info.json has no {key}")
    for meta in ("meta/tasks.parquet", "meta/stats.json", "meta/episodes/chunk-000/file-000.parquet"):
        if not (path / meta).exists():
            problems.append(f"no {meta} (was the writer closed? LeRobot's finalize writes the metadata)")
    if problems:
        return
    episodes = pq.read_table(path / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    frames = sum(int(e["length"]) for e in episodes)
    if len(episodes) != info["total_episodes"] or frames != info["total_frames"]:
        problems.append(f"info.json says {info['total_episodes']} episodes / {info['total_frames']} frames, the "
                        f"episode index {len(episodes)} / {frames}")
    data_files = sorted((path / "data").glob("chunk-*/file-*.parquet"))
    rows = sum(pq.read_metadata(f).num_rows for f in data_files)
    if rows != frames:
        problems.append(f"the data files hold {rows} rows for {frames} frames")
    for key, feature in info["features"].items():
        if feature.get("dtype") != "video":
            continue
        for episode in episodes:
            video = path / info["video_path"].format(video_key=key, chunk_index=episode[f"videos/{key}/chunk_index"],
                                                     file_index=episode[f"videos/{key}/file_index"])
            if not video.exists():
                problems.append(f"episode {episode['episode_index']}: no {video.relative_to(path)}")
        if feature.get("info", {}).get("video.codec") in UNREADABLE_BY_DECORD:
            report.notes.append(f"{key} is AV1 (LeRobot's default): decord cannot read it; so101-dataset to-gr00t "
                                "re-encodes H.264")


def _gr00t(path: Path, info: dict, report: Report) -> None:
    problems = report.problems
    meta = path / "meta"
    for key in ("data_path", "video_path", "chunks_size", "features", "fps"):
        if key not in info:
            problems.append(f"meta/info.json has no {key}")
    required = ("episodes.jsonl", "tasks.jsonl", "modality.json", "stats.json")
    for name in required:
        if not (meta / name).exists():
            problems.append(f"no meta/{name} (GR00T's loader reads it)")
    if problems:
        return
    features = info["features"]
    modality = json.loads((meta / "modality.json").read_text())
    for group in ("state", "action"):
        key = "observation.state" if group == "state" else "action"
        width = features.get(key, {}).get("shape", [0])[0]
        for part, span in modality.get(group, {}).items():
            original = span.get("original_key", key)
            if original not in features:
                problems.append(f"modality.json {group}.{part} reads {original!r}, which is not a feature")
            elif not 0 <= span["start"] < span["end"] <= width:
                problems.append(f"modality.json {group}.{part} [{span['start']}:{span['end']}] is outside {key} ({width})")
    videos = {name: spec.get("original_key", f"observation.images.{name}")
              for name, spec in modality.get("video", {}).items()}
    for name, key in videos.items():
        if features.get(key, {}).get("dtype") != "video":
            problems.append(f"modality.json video.{name} reads {key!r}, which is not a video feature")
    stats = json.loads((meta / "stats.json").read_text())
    for key, feature in features.items():
        if "float" in feature.get("dtype", "") and not set(GR00T_STATS) <= set(stats.get(key, {})):
            report.notes.append(f"stats.json lacks {set(GR00T_STATS) - set(stats.get(key, {}))} for {key}: "
                                "GR00T recomputes the statistics from every parquet file")
    chunks = int(info["chunks_size"])
    episodes = [json.loads(line) for line in (meta / "episodes.jsonl").read_text().splitlines() if line.strip()]
    if not episodes:
        problems.append("meta/episodes.jsonl lists no episode")
    for episode in episodes:
        index, length = int(episode["episode_index"]), int(episode["length"])
        parquet = path / info["data_path"].format(episode_chunk=index // chunks, episode_index=index)
        if not parquet.exists():
            problems.append(f"episode {index}: no {parquet.relative_to(path)}")
        elif pq.read_metadata(parquet).num_rows < length:
            problems.append(f"episode {index}: {parquet.name} has fewer rows than its length {length}")
        for key in videos.values():
            video = path / info["video_path"].format(episode_chunk=index // chunks, video_key=key, episode_index=index)
            _gr00t_video(video, index, length, path, report)


def _gr00t_video(video: Path, index: int, length: int, root: Path, report: Report) -> None:
    if not video.exists():
        report.problems.append(f"episode {index}: no {video.relative_to(root)}")
        return
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        frames = sum(1 for _ in container.decode(stream))
    if codec in UNREADABLE_BY_DECORD:
        report.problems.append(f"episode {index}: {video.name} is AV1, which decord cannot read (use H.264)")
    if frames < length:
        report.problems.append(f"episode {index}: {video.relative_to(root)} has {frames} frames for {length} rows "
                               "(GR00T decodes frames 0..length-1 by index)")
