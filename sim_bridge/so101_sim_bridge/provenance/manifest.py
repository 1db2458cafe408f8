"""The provenance manifest: what made a dataset, from what, on which robot and simulator, by whom.

One manifest per dataset (JSON, schema SCHEMA), written by the step that made it::

    {"schema": "so101-provenance/1",
     "kind": "conversion", "tool": "so101-dataset to-lerobot", "settings": {...converter options...},
     "started": "2025-03-02T10:15:00Z", "created": "2025-03-02T10:15:09Z",
     "task": {"id", "env_name", "instruction", "source", "spec_sha256"} | null,
     "sources": [{"path", "relative_path", "format", "content": {"sha256", "files", "bytes"},
                  "in_place": false, "manifest": {...the source's own manifest...} | null}],
     "robot": {"arm_id", "calibration": {"path", "sha256"}, "servos", "cameras"} | null,
     "simulator": {"name": "mujoco_twin", "model": {...}, "scene": {...}} | {"name": "isaac_sim", ...} | null,
     "software": {"project": {...}, "git": {"revision", "dirty"} | null, "python", "libraries": {...}},
     "user": {"operator", "consent", "license", "asset_review", "allowed_use", "source"},
     "dataset": {"format", "episodes", "frames", "cameras", "content": {"sha256", "files", "bytes",
                 "per_file": {...}} | null}}

kind is one of KINDS. Each source embeds its own manifest as it was when the step read it, so a
dataset carries its whole chain back to the human seed demos even when the files it came from
are gone; the source's content hash lets the chain be verified where they are not (chain.py). A
source made by another tool has `manifest: null` (an unknown source), its hash is still
recorded. `in_place` marks a file the step rewrote itself (an annotation, a resumed recording):
its old content can no longer be hashed, its old manifest is what remains of it.

`dataset.content` is the dataset's own content hash (hashing.py) for a folder, whose manifest
lives beside the data; an HDF5 file holds its manifest inside, so its hash is recorded by the
steps that read it, not by itself.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from so101_sim_bridge.provenance.environment import software
from so101_sim_bridge.provenance.errors import ProvenanceError
from so101_sim_bridge.provenance.user import UserFields
from so101_sim_bridge.tasks import TaskSpec

SCHEMA = "so101-provenance/1"
RECORDING, ANNOTATION, GENERATION, CONVERSION, MERGE = "recording", "annotation", "generation", "conversion", "merge"
KINDS = (RECORDING, ANNOTATION, GENERATION, CONVERSION, MERGE)


@dataclass(frozen=True)
class Source:
    """One input of a step (module doc)."""

    path: str
    """Where it was when the step read it (absolute)."""
    relative_path: str
    """The same place relative to the output's folder: found again after the whole tree moved."""
    format: str
    content: Mapping[str, Any]
    """{"sha256", "files", "bytes"} (hashing.ContentHash.summary)."""
    manifest: Manifest | None = None
    """The source's own manifest when the step read it; None: made by another tool (an unknown source)."""
    in_place: bool = False
    """The step rewrote this file itself, so it cannot be hashed again."""

    @property
    def name(self) -> str:
        return Path(self.path).name

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "relative_path": self.relative_path, "format": self.format,
                "content": dict(self.content), "in_place": self.in_place,
                "manifest": self.manifest.embedded() if self.manifest is not None else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Source:
        manifest = data.get("manifest")
        return cls(path=str(data["path"]), relative_path=str(data.get("relative_path", "")),
                   format=str(data.get("format", "unknown")), content=dict(data["content"]),
                   manifest=Manifest.from_json(manifest) if manifest is not None else None,
                   in_place=bool(data.get("in_place", False)))


@dataclass(frozen=True)
class Manifest:
    """A dataset's provenance (module doc); made before the dataset is written, completed when it is."""

    kind: str
    tool: str
    settings: Mapping[str, Any]
    user: Mapping[str, Any]
    software: Mapping[str, Any]
    started: str
    task: Mapping[str, Any] | None = None
    sources: tuple[Source, ...] = ()
    robot: Mapping[str, Any] | None = None
    simulator: Mapping[str, Any] | None = None
    dataset: Mapping[str, Any] | None = None
    """Filled in when the dataset is written (completed())."""
    created: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Keys of a newer schema this code does not know, kept so a rewrite does not lose them."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ProvenanceError(f"provenance kind {self.kind!r} unknown; kinds are {', '.join(KINDS)}")
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(self, "settings", MappingProxyType(plain(self.settings)))

    def with_sources(self, *sources: Source) -> Manifest:
        return replace(self, sources=(*self.sources, *sources))

    def completed(self, dataset: Mapping[str, Any]) -> Manifest:
        """The manifest of the written dataset: its description and the time it was written."""
        return replace(self, dataset=plain(dataset), created=utc_now())

    def to_json(self) -> dict[str, Any]:
        data = {"schema": SCHEMA, **plain(dict(self.extra))}
        for name in ("kind", "tool", "settings", "started", "created", "task"):
            data[name] = plain(getattr(self, name))
        data["sources"] = [source.to_json() for source in self.sources]
        for name in ("robot", "simulator", "software", "user", "dataset"):
            data[name] = plain(getattr(self, name))
        return data

    def embedded(self) -> dict[str, Any]:
        """to_json() without the per-file hashes of the dataset's content (kept in the dataset's own manifest only)."""
        data = self.to_json()
        content = (data.get("dataset") or {}).get("content")
        if isinstance(content, dict):
            content.pop("per_file", None)
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        if not isinstance(data, Mapping) or data.get("schema") != SCHEMA:
            found = data.get("schema") if isinstance(data, Mapping) else type(data).__name__
            raise ProvenanceError(f"not a provenance manifest of schema {SCHEMA} (found {found!r})")
        known = {f.name for f in fields(cls)} | {"schema"}
        try:
            return cls(
                kind=data["kind"], tool=str(data["tool"]), settings=data.get("settings") or {},
                user=dict(data.get("user") or {}), software=dict(data.get("software") or {}),
                started=str(data.get("started", "")), task=data.get("task"),
                sources=tuple(Source.from_json(s) for s in data.get("sources") or ()),
                robot=data.get("robot"), simulator=data.get("simulator"), dataset=data.get("dataset"),
                created=data.get("created"), extra={k: v for k, v in data.items() if k not in known},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProvenanceError(f"malformed provenance manifest: {type(exc).__name__} {exc}") from None

    @classmethod
    def loads(cls, text: str) -> Manifest:
        try:
            return cls.from_json(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ProvenanceError(f"provenance manifest is not JSON: {exc}") from None


def new_manifest(kind: str, tool: str, settings: Mapping[str, Any], *, user: UserFields,
                 task: Mapping[str, Any] | None = None, sources: tuple[Source, ...] = (),
                 robot: Mapping[str, Any] | None = None, simulator: Mapping[str, Any] | None = None) -> Manifest:
    """A step's manifest as it starts (software and start time filled in); completed when the dataset is written."""
    return Manifest(kind=kind, tool=tool, settings=settings, user=user.to_json(), software=software(),
                    started=utc_now(), task=task, sources=tuple(sources), robot=robot, simulator=simulator)


def task_reference(task: TaskSpec | None) -> dict[str, Any] | None:
    """The task as a manifest names it: id, env_name, instruction, where the spec came from, and its hash.

    spec_sha256 is the sha256 of the spec's content as loaded (its fields as sorted JSON, without
    where it was read from), so the same task hashes the same whether shipped or copied to a file,
    and any change of a subtask, a rule or a range changes it.
    """
    if task is None:
        return None
    content = {name: value for name, value in plain(task).items() if name != "source"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return {"id": task.id, "env_name": task.env_name, "instruction": task.instruction, "source": task.source,
            "spec_sha256": digest}


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain(value: Any) -> Any:
    """`value` as plain JSON data: mappings, dataclasses, tuples, paths, enums and numpy values converted."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Path):
        return str(value)
    return value
