"""so101-dataset: inspect, check, annotate and convert seed-demo datasets (the library is so101_sim_bridge.datasets).

    so101-dataset info PATH                          an HDF5 file or a LeRobot folder, in a few lines
    so101-dataset validate PATH --for TARGET         isaaclab | leisaac-mimic | lerobot | gr00t (exit 1: problems)
    so101-dataset annotate HDF5 --task SPEC          (re)compute datagen_info and subtask signals in place
    so101-dataset to-lerobot HDF5 OUT --calibration FOLLOWER.json
    so101-dataset to-gr00t LEROBOT_DIR OUT           LeRobot v2.1 + modality.json + stats, H.264 per episode
    so101-dataset from-bag BAG OUT [--config recorder.yaml] [--set key=value ...]
    so101-dataset provenance PATH [--json] [--allow-missing]   the chain back to the human seed demos, verified

Every command that writes a dataset records its provenance (manifest and card); --provenance FILE
gives the operator/consent/licence fields (default: $SO101_PROVENANCE, ~/.config/so101/provenance.yaml).

Bad input ends with one line naming what is wrong and what to do, exit status 1, and no output
left behind.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from so101_calibration import CalibrationError, read_calibration_file
from so101_sim_bridge.datasets.annotate import annotate_file
from so101_sim_bridge.datasets.errors import DatasetError
from so101_sim_bridge.datasets.from_bag import bag_to_datasets
from so101_sim_bridge.datasets.info import describe
from so101_sim_bridge.datasets.to_gr00t import lerobot_to_gr00t
from so101_sim_bridge.datasets.to_lerobot import hdf5_to_lerobot
from so101_sim_bridge.datasets.validate import TARGETS, validate
from so101_sim_bridge.provenance import ProvenanceError, chain_json, load_user_fields, tree_lines, verify_chain
from so101_sim_bridge.recorder.errors import RecorderError
from so101_sim_bridge.recorder.settings import RecorderNodeConfig
from so101_sim_bridge.recorder.video import VIDEO_CODECS, VideoConfig
from so101_sim_bridge.tasks import TaskSpecError, load_task

PROGRAM = "so101-dataset"
ROS_PARAMETERS = "ros__parameters"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    writes = argparse.ArgumentParser(add_help=False)
    writes.add_argument("--provenance", type=Path, metavar="FILE",
                        help="operator, consent, licence, asset review, allowed use (YAML; README \"Provenance\")")
    info = commands.add_parser("info", help="what a dataset holds")
    info.add_argument("path", type=Path)
    check = commands.add_parser("validate", help="what a tool would miss or reject (exit 1 if anything)")
    check.add_argument("path", type=Path)
    check.add_argument("--for", dest="target", choices=TARGETS, required=True)
    annotate = commands.add_parser("annotate", parents=[writes],
                                   help="(re)compute datagen_info and subtask signals from a task spec")
    annotate.add_argument("path", type=Path)
    annotate.add_argument("--task", required=True, help="a shipped task id or a task spec YAML file")
    annotate.add_argument("--rules", action="store_true", help="use the task's term rules even where the operator marked")
    lerobot = commands.add_parser("to-lerobot", parents=[writes], help="HDF5 file → LeRobot v3 dataset")
    lerobot.add_argument("path", type=Path)
    lerobot.add_argument("out", type=Path)
    lerobot.add_argument("--calibration", type=Path, required=True, help="the arm's LeRobot calibration .json")
    lerobot.add_argument("--normalized", action="store_true", help="LeRobot's -100..100 units (default: degrees)")
    lerobot.add_argument("--video-codec", choices=VIDEO_CODECS, default=VideoConfig.codec)
    lerobot.add_argument("--include-failed", action="store_true")
    gr00t = commands.add_parser("to-gr00t", parents=[writes],
                                help="LeRobot v3 dataset → Isaac-GR00T's LeRobot v2.1 layout")
    gr00t.add_argument("path", type=Path)
    gr00t.add_argument("out", type=Path)
    bag = commands.add_parser("from-bag", parents=[writes], help="rosbag2 (MCAP or sqlite3) → HDF5 + LeRobot v3")
    bag.add_argument("path", type=Path)
    bag.add_argument("out", type=Path, help="a new folder: so101_demos.hdf5 and so101_lerobot go in it")
    bag.add_argument("--config", type=Path, help="recorder parameters: a params file (recorder.yaml) or a plain mapping")
    bag.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="one recorder parameter")
    bag.add_argument("--namespace", default="/", help="resolve the recorder's relative topics here")
    bag.add_argument("--failed", action="store_true", help="mark the episode failed (kept in HDF5 only)")
    chain = commands.add_parser("provenance", help="the chain back to the human seed demos, every source's hash "
                                "verified (exit 1: a source changed or missing)")
    chain.add_argument("path", type=Path)
    chain.add_argument("--json", action="store_true", help="the verified chain as JSON")
    chain.add_argument("--allow-missing", action="store_true", help="sources not found are notes, not failures "
                       "(a dataset shared without the files it was made from)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (DatasetError, TaskSpecError, RecorderError, CalibrationError, ProvenanceError, ValueError) as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "info":
        for line in describe(args.path):
            print(line)
        return 0
    if args.command == "validate":
        report = validate(args.path, args.target)
        print(report.verdict())
        for problem in report.problems:
            print(f"  problem: {problem}")
        for note in report.notes:
            print(f"  note: {note}")
        return 0 if report.ok else 1
    if args.command == "provenance":
        return _provenance(args)
    if args.command == "annotate":
        user = load_user_fields(args.provenance)
        for demo, how in annotate_file(args.path, load_task(args.task), use_rules=args.rules, user=user).items():
            print(f"{demo}: {how}")
        return 0
    if args.command == "to-lerobot":
        calibration = read_calibration_file(args.calibration)
        kept = hdf5_to_lerobot(args.path, args.out, calibration, use_degrees=not args.normalized,
                               video_codec=args.video_codec, include_failed=args.include_failed,
                               calibration_file=args.calibration, user=load_user_fields(args.provenance))
        print(f"{args.out}: {kept} episode(s)")
        return 0
    if args.command == "to-gr00t":
        episodes = lerobot_to_gr00t(args.path, args.out, user=load_user_fields(args.provenance))
        print(f"{args.out}: {episodes} episode(s), GR00T layout (LeRobot v2.1)")
        return 0
    settings = [*([f"provenance_file={args.provenance}"] if args.provenance else []), *args.set]
    result = bag_to_datasets(args.path, args.out, recorder_config(args.config, settings), args.namespace,
                             success=not args.failed)
    print(f"{args.out}: {result.summary.steps} steps ({result.summary.alignment.steps_dropped} dropped) → "
          f"{', '.join(str(p) for p in (result.hdf5, result.lerobot) if p is not None)}")
    return 0


def _provenance(args: argparse.Namespace) -> int:
    report = verify_chain(args.path, allow_missing=args.allow_missing)
    if args.json:
        print(json.dumps(chain_json(report), indent=2, ensure_ascii=False))
        return 0 if report.ok else 1
    for line in tree_lines(report.root):
        print(line)
    for note in report.notes:
        print(f"  note: {note}")
    for problem in report.problems:
        print(f"  problem: {problem}")
    print("chain verified" if report.ok else f"chain BROKEN: {len(report.problems)} problem(s)")
    return 0 if report.ok else 1


def recorder_config(config_file: Path | None, settings: list[str]) -> RecorderNodeConfig:
    """The recorder's parameters from a params file (its recorder section) or mapping, then KEY=VALUE settings."""
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = yaml.safe_load(config_file.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise DatasetError(f"{config_file}: cannot read the recorder parameters ({exc})") from None
        sections = [v[ROS_PARAMETERS] for v in loaded.values() if isinstance(v, dict) and ROS_PARAMETERS in v]
        values.update(sections[0] if sections else loaded)
    for setting in settings:
        key, equals, text = setting.partition("=")
        if not equals:
            raise DatasetError(f"--set {setting!r}: give KEY=VALUE")
        values[key.strip()] = yaml.safe_load(text)
    known = {f.name: f for f in fields(RecorderNodeConfig)}
    unknown = set(values) - set(known)
    if unknown:
        raise DatasetError(f"unknown recorder parameter(s) {sorted(unknown)}; they are {', '.join(known)}")
    for key, value in list(values.items()):
        if isinstance(value, list):
            values[key] = tuple(value)
    return RecorderNodeConfig(**values)


if __name__ == "__main__":
    sys.exit(main())
