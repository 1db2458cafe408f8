"""The chain of datasets as a tree: nodes, the chain a manifest records, and its text rendering.

Shared by the card (the chain as recorded) and `so101-dataset provenance` (the chain verified, chain.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from so101_sim_bridge.provenance.manifest import RECORDING, Manifest, Source

TOP, VERIFIED, CHANGED, MISSING, IN_PLACE, RECORDED = "top", "verified", "changed", "missing", "in place", "recorded"
"""Node statuses; RECORDED: not checked (a card shows the chain as it was recorded)."""
HASH_SHOWN = 12


@dataclass
class ChainNode:
    name: str
    path: str
    """Where the dataset is (or was, for a missing source)."""
    format: str
    manifest: Manifest | None
    """None: an unknown source, made by another tool."""
    status: str
    sha256: str | None = None
    """The content hash the step that read it recorded (None at the top)."""
    details: list[str] = field(default_factory=list)
    children: list[ChainNode] = field(default_factory=list)

    @property
    def is_seed_recording(self) -> bool:
        return self.manifest is not None and self.manifest.kind == RECORDING

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def recorded_chain(manifest: Manifest, name: str) -> ChainNode:
    """The chain as `manifest` records it, nothing checked (what a card shows)."""
    def node(source: Source) -> ChainNode:
        child = ChainNode(source.name, source.path, source.format, source.manifest,
                          IN_PLACE if source.in_place else RECORDED, source.content.get("sha256"))
        child.children = [node(s) for s in source.manifest.sources] if source.manifest is not None else []
        return child

    dataset = manifest.dataset or {}
    root = ChainNode(name, name, str(dataset.get("format", "unknown")), manifest, TOP)
    root.children = [node(source) for source in manifest.sources]
    return root


def tree_lines(root: ChainNode) -> list[str]:
    """The chain as an indented tree, one line per dataset."""
    lines = [_label(root)]

    def add(children: list[ChainNode], prefix: str) -> None:
        for index, child in enumerate(children):
            last = index == len(children) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{_label(child)}")
            add(child.children, prefix + ("    " if last else "│   "))

    add(root.children, "")
    return lines


def _label(node: ChainNode) -> str:
    manifest = node.manifest
    if manifest is None:
        what = "unknown source (no provenance manifest: made by another tool)"
    else:
        dataset = manifest.dataset or {}
        when = (manifest.created or manifest.started or "").replace("T", " ").replace("Z", " UTC")
        what = f"{manifest.kind} ({manifest.tool}) {when}".rstrip()
        if dataset.get("episodes") is not None:
            what += f", {dataset['episodes']} episode{'' if dataset['episodes'] == 1 else 's'}"
        if manifest.kind == RECORDING:
            user = manifest.user
            what += (f": human seed demos, operator {user.get('operator', '?')}, consent {user.get('consent', '?')}")
    check = ", ".join(node.details) if node.status == TOP else _check(node)
    return f"{node.name} [{node.format}] {what}" + (f" — {check}" if check else "")


def _check(node: ChainNode) -> str:
    digest = f"sha256 {node.sha256[:HASH_SHOWN]}" if node.sha256 else "no hash"
    if node.status == CHANGED:
        return f"{digest} CHANGED ({'; '.join(node.details)})"
    if node.status == MISSING:
        return f"{digest} MISSING"
    return f"{digest} {node.status}"
