"""so101-mimicgen: multiply seed demos with MimicGen on the MuJoCo twin (the library is so101_sim_bridge.mimicgen).

    so101-mimicgen SEED.hdf5 [SEED2.hdf5 ...] --num-demos N --out DIR --calibration FOLLOWER.json
                   [--task SPEC] [--workers N | --ray-address ADDR] [--resume] [--seed S]
                   [--cameras NAME ... | --no-cameras] [--image-size WxH] [--camera-fps F]
                   [--keep-failed] [--max-failures N] [--no-lerobot] [--video-codec CODEC]

DIR receives generated.hdf5 (Isaac Lab HDF5, the seeds' layout, with datagen_info), generated_lerobot/
(LeRobot v3), trials.jsonl, report.json and report.png. Bad input ends with one line naming what is
wrong and what to do, exit status 1, before any trial runs; exit status 1 also when generation
gave up (max failures) before reaching --num-demos.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from so101_sim_bridge.datasets import DatasetError
from so101_sim_bridge.mimicgen.config import GR00T_NAME, GenerationConfig
from so101_sim_bridge.mimicgen.errors import MimicGenError
from so101_sim_bridge.mimicgen.generate import DONE, generate
from so101_sim_bridge.provenance import ProvenanceError
from so101_sim_bridge.recorder.errors import RecorderError
from so101_sim_bridge.recorder.video import VIDEO_CODECS
from so101_sim_bridge.twin import TWIN_CAMERAS

PROGRAM = "so101-mimicgen"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Isaac Lab Mimic's knobs (subtasks, selection, offsets, noise, "
                                            "interpolation, randomization) are the task spec's.")
    parser.add_argument("seeds", nargs="+", type=Path, metavar="SEED.hdf5",
                        help="seed demo files with datagen_info and subtask signals (as `so101 demo` records)")
    parser.add_argument("--num-demos", type=int, help="demos to generate (default: the spec's generation_num_trials)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--task", help="task spec: a shipped id or a YAML file (default: the one the seed files name)")
    parser.add_argument("--workers", type=int, default=GenerationConfig.workers,
                        help="local worker processes (with --ray-address: Ray tasks at a time, default the "
                             "cluster's CPUs)")
    parser.add_argument("--ray-address", help="run the trials as Ray tasks on this existing cluster (host:port)")
    parser.add_argument("--resume", action="store_true", help="continue a killed or finished run in --out")
    parser.add_argument("--seed", type=int, help="random seed (default: the spec's datagen seed)")
    cameras = parser.add_mutually_exclusive_group()
    cameras.add_argument("--cameras", nargs="+", choices=TWIN_CAMERAS, help="twin cameras to render (default: the "
                         "seeds' cameras)")
    cameras.add_argument("--no-cameras", action="store_true", help="render no images")
    parser.add_argument("--image-size", type=_size, metavar="WxH", help="rendered image size (default: the seeds')")
    parser.add_argument("--camera-fps", type=int, help="new frames per second (default: the seeds' recording rate)")
    parser.add_argument("--keep-failed", action="store_true", default=None,
                        help="also keep failed trials as demos (success=false)")
    parser.add_argument("--max-failures", type=int, help="give up after this many failures (default: the spec's "
                        "max_num_failures; 0: never)")
    parser.add_argument("--calibration", type=Path, help="the follower's LeRobot calibration .json (the LeRobot "
                        "copy's units)")
    parser.add_argument("--no-lerobot", action="store_true", help="write the HDF5 file only")
    parser.add_argument("--video-codec", choices=VIDEO_CODECS, default=GenerationConfig.video_codec)
    parser.add_argument("--provenance", type=Path, metavar="FILE",
                        help="the provenance user fields (operator, consent, licence, ...; default: $SO101_PROVENANCE "
                             "or ~/.config/so101/provenance.yaml)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = GenerationConfig(
            seeds=tuple(args.seeds), out=args.out, num_demos=args.num_demos, task=args.task, workers=args.workers,
            ray_address=args.ray_address, resume=args.resume, seed=args.seed,
            cameras=() if args.no_cameras else (tuple(args.cameras) if args.cameras else None),
            image_size=args.image_size, camera_fps=args.camera_fps, keep_failed=args.keep_failed,
            max_failures=args.max_failures, calibration=args.calibration, lerobot=not args.no_lerobot,
            video_codec=args.video_codec, provenance_file=args.provenance,
        )
        summary = generate(config)
    except (MimicGenError, DatasetError, RecorderError, ProvenanceError) as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return 1
    tally = summary.tally
    print(f"{tally.kept} demo(s) from {tally.trials} trial(s), {tally.success_rate:.0%} success "
          f"({summary.generated} generated now, {summary.demos_per_min:.1f} per minute)")
    for name, path in summary.files.items():
        print(f"  {name}: {path}")
    if "lerobot" in summary.files:
        print(f"  GR00T: so101-dataset to-gr00t {summary.files['lerobot']} {config.out / GR00T_NAME}")
    if summary.stopped != DONE:
        print(f"{PROGRAM}: gave up after {tally.failures} failures (--max-failures) with {tally.successes} of "
              f"{summary.report['num_demos']} successes; see {summary.files['report_png']}", file=sys.stderr)
        return 1
    return 0


def _size(text: str) -> tuple[int, int]:
    """'320x240' (width x height) → (height, width)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"image size is WIDTHxHEIGHT, e.g. 320x240, got {text!r}") from None
    return height, width


if __name__ == "__main__":
    sys.exit(main())
