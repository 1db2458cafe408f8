"""`so101`: the stack's front door. `so101 demo` runs the main job on the embedded default;
`so101 run <graph>` starts a launch file's node graph in this process (so101_bringup.run_cli);
`so101 status` shows every node's /diagnostics live."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from so101_bringup.domains import check_domain_environment, domain_id_argument
from so101_bringup.run_cli import add_run_parser
from so101_bringup.status import add_status_parser
from so101_hardware.errors import BusError


def _demo(args: argparse.Namespace) -> int:
    from so101_bringup.demo import DEMO_FAILURES, DemoConfig, run_demo

    config = DemoConfig(
        out_dir=Path(args.out), episodes=args.episodes, episode_s=args.episode_seconds, deploy_s=args.deploy_seconds,
        leader_port=args.leader_port, follower_port=args.follower_port,
        leader_calibration=args.leader_calibration, follower_calibration=args.follower_calibration,
        leader_id=args.leader_id, follower_id=args.follower_id, allow_motion=args.allow_motion,
        rerun=args.rerun, domain_id=args.domain_id, seed=args.seed, generated_demos=args.generated_demos,
    )
    try:
        summary = run_demo(config)
    except DEMO_FAILURES as exc:
        print(f"so101 demo: {exc}", file=sys.stderr)
        return 1
    return 0 if summary.goals_outside_limits == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="so101", description="SO-101 teleop and deployment stack")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="teleop → MuJoCo twin → recorded seed demos → replayed policy, with a report (emulated arms by default)",
    )
    demo.add_argument("--out", default="out/demo", help="report folder; each run makes <out>/<date-time> (default out/demo)")
    demo.add_argument("--episodes", type=int, default=3, help="seed demos to record (default 3)")
    demo.add_argument("--generated-demos", type=int, default=4,
                      help="demos MimicGen makes from the seed demos on the twin, so101-mimicgen (default 4; 0: none)")
    demo.add_argument("--episode-seconds", type=float, default=10.0,
                      help="real arms: seconds per recorded demo (emulated: the scripted pick-and-place, 10 s + 1 s at rest)")
    demo.add_argument("--deploy-seconds", type=float, default=None,
                      help="seconds the replayed policy drives the follower (default: the demo's length + 2 s)")
    demo.add_argument("--leader-port", help="real leader arm's serial port (with --follower-port: real arms)")
    demo.add_argument("--follower-port", help="real follower arm's serial port")
    demo.add_argument("--leader-calibration", help="leader calibration .json or folder (default: LeRobot's folders)")
    demo.add_argument("--follower-calibration", help="follower calibration .json or folder")
    demo.add_argument("--leader-id", help="leader arm id (default: the calibration file's stem, else leader)")
    demo.add_argument("--follower-id", help="follower arm id (default: the calibration file's stem, else follower)")
    demo.add_argument("--allow-motion", action="store_true",
                      help="real arms: the follower will move (mirroring, then replaying); required with real ports")
    demo.add_argument("--rerun", action="store_true", help="also serve the live rerun web viewer on localhost")
    demo.add_argument("--domain-id", type=domain_id_argument, default=None,
                      help="ROS domain (default: 101 emulated, so no real follower hears it; $ROS_DOMAIN_ID with real arms)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the emulated servos' sensor noise")
    demo.set_defaults(func=_demo)
    add_run_parser(sub)
    add_status_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        check_domain_environment()
        return args.func(args)
    except (BusError, ValueError) as exc:
        print(f"so101 {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"so101 {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
