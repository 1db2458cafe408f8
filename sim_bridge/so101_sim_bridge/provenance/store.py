"""Where manifests live, and how a dataset becomes a source of the next step.

- An Isaac Lab HDF5 file holds its manifest inside, as the root dataset `provenance` (one UTF-8
  JSON string; a dataset rather than an attribute, which HDF5 limits to 64 KiB), beside /data,
  which Isaac Lab's and LeIsaac's tools read alone. Its card is a file beside it,
  `<file name>.md` (so101_demos.hdf5 → so101_demos.hdf5.md).
- A folder dataset (LeRobot v3.0, the GR00T export) has `provenance.json` and its card
  `README.md` at its top, beside meta/, where the Hugging Face Hub and LeRobot expect the card.
  Neither is part of the folder's content hash (hashing.py), so the folder's manifest records
  the hash of the data it describes.
Files are replaced whole (written beside, then renamed), so a crash never leaves half a manifest.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import h5py

from so101_sim_bridge.provenance.card import render_card
from so101_sim_bridge.provenance.errors import ProvenanceError
from so101_sim_bridge.provenance.hashing import CARD_NAME, MANIFEST_NAME, content_hash
from so101_sim_bridge.provenance.manifest import Manifest, Source

log = logging.getLogger(__name__)

HDF5_MANIFEST = "provenance"
HDF5_CARD_SUFFIX = ".md"
ISAACLAB_HDF5, LEROBOT_V3, GR00T_V21, ROSBAG2, UNKNOWN_FORMAT = (
    "isaaclab-hdf5", "lerobot-v3.0", "lerobot-v2.1 (GR00T)", "rosbag2", "unknown")
ROSBAG_SUFFIXES = (".mcap", ".db3")


def dataset_format(path: Path) -> str:
    """What kind of dataset `path` is, by its shape (UNKNOWN_FORMAT when none of ours)."""
    path = Path(path)
    if path.is_dir():
        info = _info_json(path)
        if info is not None:
            version = info.get("codebase_version")
            return LEROBOT_V3 if version == "v3.0" else GR00T_V21 if version == "v2.1" else f"lerobot-{version}"
        return ROSBAG2 if (path / "metadata.yaml").is_file() else UNKNOWN_FORMAT
    if path.suffix in ROSBAG_SUFFIXES:
        return ROSBAG2
    if path.is_file() and h5py.is_hdf5(path):
        return ISAACLAB_HDF5
    return UNKNOWN_FORMAT


def hdf5_card_path(path: Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + HDF5_CARD_SUFFIX)


def read_manifest(path: Path) -> Manifest | None:
    """The dataset's manifest, or None when it has none (made by another tool); ProvenanceError if it is unreadable."""
    path = Path(path)
    if path.is_dir():
        file = path / MANIFEST_NAME
        return Manifest.loads(file.read_text(encoding="utf-8")) if file.is_file() else None
    if not path.is_file():
        raise ProvenanceError(f"no dataset at {path}")
    if not h5py.is_hdf5(path):
        return None
    try:
        with h5py.File(path, "r") as file:
            return read_hdf5_manifest(file)
    except OSError as exc:
        raise ProvenanceError(f"{path}: not a readable HDF5 file ({exc})") from None


def read_hdf5_manifest(file: h5py.File) -> Manifest | None:
    if HDF5_MANIFEST not in file:
        return None
    return Manifest.loads(file[HDF5_MANIFEST].asstr()[()])


def write_hdf5_provenance(target: h5py.File | Path, manifest: Manifest, name_as: Path | None = None) -> Manifest:
    """Complete `manifest` with what the HDF5 file holds, store it in the file (replacing an older one) and write
    its card beside it; `target` is an open file or a path. `name_as`: the path the file will have (a copy
    being written beside it), which names the card and where it goes."""
    if isinstance(target, h5py.File):
        completed = _store_in_hdf5(target, manifest)
        path = Path(target.filename)
    else:
        with h5py.File(target, "a") as file:
            completed = _store_in_hdf5(file, manifest)
        path = Path(target)
    final = Path(name_as or path)
    write_card(hdf5_card_path(final), completed, final.name)
    return completed


def _store_in_hdf5(file: h5py.File, manifest: Manifest) -> Manifest:
    completed = manifest.completed(describe_hdf5(file))
    if HDF5_MANIFEST in file:
        del file[HDF5_MANIFEST]
    file.create_dataset(HDF5_MANIFEST, data=completed.dumps())
    return completed


def write_folder_provenance(root: Path, manifest: Manifest, name: str | None = None,
                            show_progress: bool = True) -> Manifest:
    """Hash the folder's data, complete the manifest with it, write provenance.json and the card README.md."""
    root = Path(root)
    content = content_hash(root, show_progress)
    info = _info_json(root) or {}
    completed = manifest.completed(describe_folder(root, info, content.summary() | {"per_file": content.per_file}))
    _replace_text(root / MANIFEST_NAME, completed.dumps())
    write_card(root / CARD_NAME, completed, name or root.name, info)
    return completed


def write_card(path: Path, manifest: Manifest, title: str, info: dict[str, Any] | None = None) -> None:
    _replace_text(Path(path), render_card(manifest, title, info))


def source_of(path: Path, output: Path, in_place: bool = False, show_progress: bool = True) -> Source:
    """`path` as a source of the step writing `output`: its location, content hash and manifest (None: unknown)."""
    path = Path(path).resolve()
    if not path.exists():
        raise ProvenanceError(f"no source at {path}")
    try:
        manifest = read_manifest(path)
    except ProvenanceError as exc:
        log.warning("%s: its provenance manifest is unreadable (%s); recorded as an unknown source", path, exc)
        manifest = None
    relative = os.path.relpath(path, Path(output).resolve().parent)
    return Source(str(path), relative, dataset_format(path), content_hash(path, show_progress).summary(),
                  manifest, in_place)


def describe_hdf5(file: h5py.File) -> dict[str, Any]:
    """An Isaac Lab HDF5 file as a manifest describes it: demos, successes, rows, cameras (from demo_0)."""
    data = file.get("data")
    demos = [data[name] for name in data if name.startswith("demo_")] if data is not None else []
    cameras: dict[str, list[int]] = {}
    obs = demos[0].get("obs") if demos else None
    for key, item in (obs.items() if obs is not None else ()):
        if isinstance(item, h5py.Dataset) and item.ndim == 4:
            cameras[key] = list(item.shape[1:3])
    return {"format": ISAACLAB_HDF5, "episodes": len(demos),
            "successful": sum(1 for demo in demos if bool(demo.attrs.get("success", True))),
            "frames": int(data.attrs.get("total", 0)) if data is not None else 0,
            "cameras": cameras, "content": None}


def describe_folder(root: Path, info: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    features = info.get("features", {})
    return {"format": dataset_format(root), "episodes": info.get("total_episodes"), "frames": info.get("total_frames"),
            "fps": info.get("fps"), "robot_type": info.get("robot_type"),
            "cameras": {key: feature.get("shape") for key, feature in features.items()
                        if feature.get("dtype") == "video"},
            "content": content}


def _info_json(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(root) / "meta" / "info.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _replace_text(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.writing")  # a dot name: never part of a folder's hash
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
