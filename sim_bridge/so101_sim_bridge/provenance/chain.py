"""A dataset's chain back to the human seed demos, verified: what `so101-dataset provenance` prints.

The chain is the tree of a dataset's manifest and, recursively, its sources' embedded
manifests. Verifying it checks every source it can reach against the content hash the step
recorded when it read it:

- a source is looked for at its path relative to the dataset that names it (so a tree of
  datasets moved or copied together still verifies), then at its recorded absolute path;
- found and equal: verified; found and different: changed (for a folder whose own manifest
  lists its files, which ones); not found: missing; rewritten by the step itself (an
  annotation, a resumed recording): in place, its old content is gone, its manifest remains;
- a folder dataset at the top is checked against its own recorded content hash too.

Changed sources, and missing ones unless allowed, make the chain broken. Below a missing or
changed source, its embedded manifest still shows the rest of the chain, whose sources are
looked for in turn.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from so101_sim_bridge.provenance.errors import ProvenanceError
from so101_sim_bridge.provenance.hashing import content_hash, iter_changed
from so101_sim_bridge.provenance.manifest import Manifest, Source
from so101_sim_bridge.provenance.store import dataset_format, read_manifest
from so101_sim_bridge.provenance.tree import CHANGED, HASH_SHOWN, IN_PLACE, MISSING, TOP, VERIFIED, ChainNode


@dataclass(frozen=True)
class ChainReport:
    root: ChainNode
    problems: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(path: Path, allow_missing: bool = False, show_progress: bool = True) -> ChainReport:
    """Read the dataset's manifest and verify its chain (module doc); ProvenanceError if it has no manifest."""
    path = Path(path).resolve()
    if not path.exists():
        raise ProvenanceError(f"no dataset at {path}")
    manifest = read_manifest(path)
    if manifest is None:
        raise ProvenanceError(f"{path} has no provenance manifest (made by another tool, or before manifests "
                              "existed): there is no chain to verify")
    verifier = _Verifier(allow_missing, show_progress)
    root = ChainNode(path.name, str(path), dataset_format(path), manifest, TOP)
    verifier.check_own_content(root, path, manifest)
    root.children = [verifier.source(source, path) for source in manifest.sources]
    return ChainReport(root, tuple(verifier.problems), tuple(verifier.notes))


class _Verifier:
    def __init__(self, allow_missing: bool, show_progress: bool):
        self.allow_missing = allow_missing
        self.show_progress = show_progress
        self.problems: list[str] = []
        self.notes: list[str] = []
        self._hashes: dict[Path, Any] = {}

    def check_own_content(self, node: ChainNode, path: Path, manifest: Manifest) -> None:
        recorded = (manifest.dataset or {}).get("content")
        if not recorded or not path.is_dir():
            return  # an HDF5 file holds its manifest: its hash is checked by whoever names it as a source
        now = self._hash(path)
        if now.sha256 == recorded.get("sha256"):
            node.details.append("content verified")
            return
        node.details = list(iter_changed(recorded.get("per_file") or {}, now.per_file)) or ["content changed"]
        self.problems.append(f"{path}: the dataset changed since it was written ({'; '.join(node.details)})")

    def source(self, source: Source, holder: Path) -> ChainNode:
        """The node of `source` named by the dataset at `holder` (verified), with its own sources below it."""
        expected = source.content.get("sha256")
        node = ChainNode(source.name, source.path, source.format, source.manifest, VERIFIED, expected)
        if source.in_place:
            node.status, location = IN_PLACE, holder
            node.details.append("rewritten in place by the step above: its earlier content is gone, its manifest kept")
        else:
            expected_at = self._candidates(source, holder)
            location = next((candidate for candidate in expected_at if candidate.exists()), None)
            if location is None:
                node.status = MISSING
                location = expected_at[0]  # where the rest of a tree moved whole would be
                message = f"{source.path}: missing (a source of {holder.name}; looked at " \
                          f"{' and '.join(str(p) for p in dict.fromkeys(expected_at))})"
                (self.notes if self.allow_missing else self.problems).append(message)
            else:
                node.path = str(location)
                now = self._hash(location)
                if now.sha256 != expected:
                    node.status = CHANGED
                    node.details = self._what_changed(location, now) or [f"sha256 now {now.sha256[:HASH_SHOWN]}"]
                    self.problems.append(f"{location}: changed since {holder.name} was made from it "
                                         f"({'; '.join(node.details)})")
        if source.manifest is None:
            self.notes.append(f"{source.path}: an unknown source (no provenance manifest: made by another tool)")
        else:
            node.children = [self.source(child, location) for child in source.manifest.sources]
        return node

    @staticmethod
    def _candidates(source: Source, holder: Path) -> list[Path]:
        """Where to look: beside the dataset naming it as when it was made, then where it was."""
        relative = [Path(os.path.normpath(holder.parent / source.relative_path))] if source.relative_path else []
        return [*relative, Path(source.path)]

    def _hash(self, path: Path):
        if path not in self._hashes:
            self._hashes[path] = content_hash(path, self.show_progress)
        return self._hashes[path]

    def _what_changed(self, location: Path, now) -> list[str]:
        """For a folder whose own manifest lists its files: which of them changed."""
        if not location.is_dir():
            return []
        try:
            own = read_manifest(location)
        except ProvenanceError:
            return []
        recorded = ((own.dataset or {}).get("content") or {}).get("per_file") if own is not None else None
        return list(iter_changed(recorded, now.per_file)) if recorded else []


def chain_json(report: ChainReport) -> dict[str, Any]:
    """The verified chain for machines: ok, problems, notes, and the tree (each node's manifest, sources apart)."""
    def node(item: ChainNode) -> dict[str, Any]:
        manifest = item.manifest.embedded() if item.manifest is not None else None
        if manifest is not None:
            manifest.pop("sources", None)
        return {"name": item.name, "path": item.path, "format": item.format, "status": item.status,
                "sha256": item.sha256, "details": item.details, "manifest": manifest,
                "sources": [node(child) for child in item.children]}

    return {"ok": report.ok, "problems": list(report.problems), "notes": list(report.notes), "chain": node(report.root)}
