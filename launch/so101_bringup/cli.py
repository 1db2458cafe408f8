"""`so101`: the stack's front door. `so101 demo` runs the main job on the embedded default;
`so101 run <graph>` starts a launch file's node graph in this process (so101_bringup.run_cli);
`so101 status` shows every node's /diagnostics live."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from so101_bringup.run_cli import add_run_parser
from so101_bringup.status import add_status_parser
from so101_hardware.errors import BusError


def _demo(args: argparse.Namespace) -> int:
    from so101_bringup.demo import DemoConfig, run_demo

    config = DemoConfig(
        duration_s=args.duration, rate_hz=args.rate, out_dir=Path(args.out), uart_timing=not args.no_uart_timing, seed=args.seed
    )
    summary = run_demo(config)
    return 0 if summary.goals_outside_limits == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="so101", description="SO-101 teleop and deployment stack")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="emulated leader and follower arms: scan, configure, mirror, summarise")
    demo.add_argument("--duration", type=float, default=10.0, help="seconds of mirroring (default 10)")
    demo.add_argument("--rate", type=float, default=100.0, help="control rate in Hz (default 100)")
    demo.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the scripted leader motion")
    demo.add_argument("--no-uart-timing", action="store_true", help="emulate an infinitely fast bus")
    demo.set_defaults(func=_demo)
    add_run_parser(sub)
    add_status_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (BusError, ValueError) as exc:
        print(f"so101 {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"so101 {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
