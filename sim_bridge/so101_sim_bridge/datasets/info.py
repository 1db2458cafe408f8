"""`so101-dataset info PATH`: what a dataset holds, in a few lines (HDF5 file or LeRobot folder), and what made it."""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pyarrow.parquet as pq

from so101_sim_bridge.datasets.errors import DatasetError
from so101_sim_bridge.datasets.isaaclab_file import demos, env_args_of, open_demo_file
from so101_sim_bridge.provenance import ProvenanceError, read_manifest


def describe(path: Path) -> list[str]:
    path = Path(path)
    if path.is_dir():
        return [*_lerobot(path), _provenance(path)]
    with open_demo_file(path) as file:
        return [*_hdf5(file, path), _provenance(path)]


def _provenance(path: Path) -> str:
    try:
        manifest = read_manifest(path)
    except ProvenanceError as exc:
        return f"  provenance: unreadable ({exc})"
    if manifest is None:
        return "  provenance: none (made by another tool)"
    return (f"  provenance: {manifest.kind} by {manifest.tool}, {manifest.created}, {len(manifest.sources)} source(s); "
            f"the chain: so101-dataset provenance {path}")


def _hdf5(file: h5py.File, path: Path) -> list[str]:
    env_args = env_args_of(file)
    groups = demos(file)
    lines = [
        f"{path}: Isaac Lab HDF5, {len(groups)} demo(s), {int(file['data'].attrs.get('total', 0))} rows",
        f"  env_name {env_args.get('env_name')!r}, task {env_args.get('task')}, profile {env_args.get('profile')}",
        f"  rate {env_args.get('fps')} rows/s (recorded at {env_args.get('recorded_fps', env_args.get('fps'))} fps), "
        f"units {env_args.get('sim_units', 'unknown')}, joints {env_args.get('joint_names')}",
    ]
    for demo in groups:
        attrs = demo.attrs
        rows = len(demo["actions"]) if "actions" in demo else 0
        cameras = [f"{k} {demo['obs'][k].shape[2]}x{demo['obs'][k].shape[1]}" for k in demo.get("obs", {})
                   if isinstance(demo["obs"][k], h5py.Dataset) and demo["obs"][k].ndim == 4]
        objects = sorted(demo.get("initial_state/rigid_object", {}))
        signals = demo.get("obs/datagen_info/subtask_term_signals")
        rises = {k: int(np.argmax(v[()])) if v[()].any() else None for k, v in signals.items()} if signals else {}
        duration = f" ({rows / env_args['fps']:.1f} s)" if env_args.get("fps") else ""
        lines.append(
            f"  {demo.name.rpartition('/')[2]}: {rows} rows{duration}, "
            f"success={bool(attrs.get('success'))}, seed {attrs.get('seed')}, cameras {cameras or 'none'}, "
            f"objects {objects or 'none'}, annotation {attrs.get('subtask_annotation', 'none')} {rises or ''}".rstrip()
        )
    keys: list[str] = []
    if groups:
        groups[0].visititems(lambda k, item: keys.append(f"{k} {item.shape}") if isinstance(item, h5py.Dataset) else None)
        lines.append("  keys of demo_0: " + ", ".join(keys))
    return lines


def _lerobot(path: Path) -> list[str]:
    try:
        info = json.loads((path / "meta" / "info.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: no readable meta/info.json ({exc}); not a LeRobot dataset folder") from None
    version = info.get("codebase_version")
    features = info.get("features", {})
    cameras = {k: v.get("info", {}).get("video.codec") for k, v in features.items() if v.get("dtype") == "video"}
    lines = [
        f"{path}: LeRobot {version}, {info.get('total_episodes')} episode(s), {info.get('total_frames')} frames "
        f"at {info.get('fps')} fps, robot {info.get('robot_type')}, units {info.get('units', 'not recorded')}",
        f"  cameras (codec): {cameras or 'none'}",
        f"  features: {', '.join(features)}",
    ]
    if version == "v2.1":
        episodes = [json.loads(x) for x in (path / "meta/episodes.jsonl").read_text().splitlines() if x.strip()]
        modality = path / "meta/modality.json"
        lines.append(f"  modality.json: {json.loads(modality.read_text()) if modality.exists() else 'missing'}")
    else:
        index = path / "meta/episodes/chunk-000/file-000.parquet"
        episodes = pq.read_table(index, columns=["episode_index", "length", "tasks"]).to_pylist() if index.exists() else []
    for episode in episodes:
        lines.append(f"  episode {episode['episode_index']}: {episode['length']} frames, tasks {episode['tasks']}")
    return lines
