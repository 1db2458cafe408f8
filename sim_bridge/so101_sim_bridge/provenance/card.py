"""A dataset's card: README.md with YAML front matter, as LeRobot writes one for the Hub, plus its lineage.

LeRobot's card (docs/reference/lerobot.md §13) has front matter with `license`, `tags` (LeRobot
first), `task_categories: [robotics]` and a `configs` entry pointing the Hub's viewer at
data/*/*.parquet, then a short description and the dataset's meta/info.json under "Dataset
Structure". Ours keeps that shape (an HDF5 file's card has no `configs` and no LeRobot tag)
and adds what the manifest says for a reader: the step that made the dataset, the task, the
chain back to the human seed demos as recorded, each seed recording's operator, consent,
licence, review and allowed use, the settings, robot, simulator and software. The manifest
stays the reference; the card is rendered from it each time it is written.
"""
from __future__ import annotations

import json
from typing import Any

import yaml

from so101_sim_bridge.provenance.manifest import Manifest
from so101_sim_bridge.provenance.tree import recorded_chain, tree_lines

LEROBOT_DATA_FILES = "data/*/*.parquet"


def render_card(manifest: Manifest, title: str, info: dict[str, Any] | None = None) -> str:
    dataset = manifest.dataset or {}
    folder = info is not None and bool(info)
    front: dict[str, Any] = {
        "license": str(manifest.user.get("license", "unknown")),
        "task_categories": ["robotics"],
        "tags": [*(["LeRobot"] if folder else []), "so101", "provenance",
                 *([manifest.task["id"]] if manifest.task else [])],
    }
    if folder:
        front["configs"] = [{"config_name": "default", "data_files": LEROBOT_DATA_FILES}]
    chain = recorded_chain(manifest, title)
    seeds = [node for node in chain.walk() if node.is_seed_recording]
    unknown = [node for node in chain.walk() if node.manifest is None]
    where = ("[provenance.json](provenance.json) beside meta/" if folder
             else "inside the file (its root dataset `provenance`)")
    lines = [
        "---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
        f"# {title}", "",
        f"This dataset was made by the so101 stack (`{manifest.tool}`, a {manifest.kind} step) in the "
        f"{dataset.get('format', 'unknown')} format. Its machine-readable provenance manifest is {where}; "
        f"`so101-dataset provenance {title}` prints its chain back to the human seed demos and verifies every "
        "source's content hash.", "",
        "## Dataset Description", "",
        *_description(manifest, dataset), "",
        "## Provenance", "",
        "The chain as recorded when this dataset was written (sources' sha256 as read then):", "",
        "```text", *tree_lines(chain), "```", "",
        "### Human seed demos", "",
        *(_seed_table(seeds) if seeds else ["None recorded in this chain."]), "",
    ]
    if unknown:
        lines += ["### Unknown sources", "",
                  "Made by other tools, without a manifest (their content hash is recorded):", "",
                  *(f"- `{node.path}` ({node.format}), sha256 `{node.sha256}`" for node in unknown), ""]
    lines += ["### Settings", "", f"The {manifest.kind} step's settings:", "", "```json",
              json.dumps(dict(manifest.settings), indent=2, ensure_ascii=False), "```", "",
              "### Robot, simulator, software", "",
              f"- **Robot:** {_inline(manifest.robot)}",
              f"- **Simulator:** {_inline(manifest.simulator)}",
              f"- **Software:** {_software(manifest.software)}", ""]
    if folder:
        lines += ["## Dataset Structure", "", "[meta/info.json](meta/info.json):", "", "```json",
                  json.dumps(info, indent=4), "```", ""]
    return "\n".join(lines)


def _description(manifest: Manifest, dataset: dict[str, Any]) -> list[str]:
    user = manifest.user
    task = manifest.task
    cameras = ", ".join(f"{name} {'x'.join(str(v) for v in shape or [])}" for name, shape in
                        (dataset.get("cameras") or {}).items()) or "none"
    rate = f" at {dataset['fps']} fps" if dataset.get("fps") else ""
    return [
        f"- **Made by:** {manifest.kind} with `{manifest.tool}`, {manifest.created or manifest.started}",
        "- **Task:** " + (f"{task['id']} (`{task['env_name']}`): \"{task['instruction']}\"; spec sha256 "
                           f"`{task['spec_sha256']}`" if task else "none recorded"),
        f"- **Episodes:** {dataset.get('episodes', '?')} ({dataset.get('frames', '?')} frames{rate}); "
        f"cameras: {cameras}",
        f"- **License:** {user.get('license', 'unknown')}",
        f"- **Operator:** {user.get('operator', 'unknown')}; **consent:** {user.get('consent', 'unknown')}",
        f"- **Asset review:** {user.get('asset_review', 'not reviewed')}; "
        f"**allowed use:** {user.get('allowed_use', 'unknown')}",
        f"- **Fields from:** {user.get('source', 'unknown')}",
    ]


def _seed_table(seeds: list) -> list[str]:
    header = ["dataset", "recorded", "episodes", "operator", "consent", "license", "asset review", "allowed use",
              "arm", "calibration sha256", "simulator"]
    rows = [header, ["---"] * len(header)]
    for node in seeds:
        manifest: Manifest = node.manifest
        user, robot = manifest.user, manifest.robot or {}
        calibration = robot.get("calibration")
        calibration = calibration.get("sha256") if isinstance(calibration, dict) else None
        rows.append([node.name, str(manifest.created or manifest.started),
                     str((manifest.dataset or {}).get("episodes", "?")), *(str(user.get(key, "unknown")) for key in
                     ("operator", "consent", "license", "asset_review", "allowed_use")),
                     str(robot.get("arm_id", "—")), f"`{calibration[:16]}…`" if calibration else "—",
                     str((manifest.simulator or {}).get("name", "none"))])
    return ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _inline(value: Any) -> str:
    return f"`{json.dumps(value, ensure_ascii=False)}`" if value else "none recorded"


def _software(software: dict[str, Any]) -> str:
    project = ", ".join(f"{name} {version}" for name, version in (software.get("project") or {}).items())
    git = software.get("git")
    revision = f"git {git['revision'][:12]}{' (modified)' if git.get('dirty') else ''}" if git else "no git revision"
    libraries = ", ".join(f"{name} {version}" for name, version in (software.get("libraries") or {}).items())
    return f"{project or 'unknown'}; {revision}; Python {software.get('python', '?')}; {libraries}"
