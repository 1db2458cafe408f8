"""so101-policy-server: serve a GR00T checkpoint (gr00t), a recorded episode (replay) or a stand-in model (synthetic).

    so101-policy-server --backend replay --dataset demos.hdf5 --calibration follower.json
    so101-policy-server --backend gr00t --protocol n1.6 --model-path ./checkpoint
    so101-policy-server --backend synthetic --latency-ms 150 --first-latency-ms 700 --horizon 40 \
        --calibration follower.json

Binds 127.0.0.1:5555 (interface_contract.LOOPBACK_HOST, POLICY_PORT) unless told otherwise
(pass --host 0.0.0.0 to serve a robot on the LAN, ideally with --api-token: without one it warns).
Ctrl-C, SIGTERM or the `kill` endpoint stop it cleanly. With --port 0 a free port is chosen; the
first line printed names the endpoint either way.
"""
from __future__ import annotations

import argparse
import ipaddress
import logging
import math
import signal
import sys
from pathlib import Path

from so101_calibration import CalibrationError, read_calibration_file
from so101_calibration.interface_contract import LOOPBACK_HOST, POLICY_PORT
from so101_policy.embodiment.data_config import DATA_CONFIGS, data_config, default_data_config
from so101_policy.embodiment.joint_units import JointUnits
from so101_policy.errors import PolicyError
from so101_policy.server.backends.base import Policy
from so101_policy.server.backends.synthetic import SyntheticConfig, SyntheticPolicy
from so101_policy.server.policy_server import DEFAULT_MAX_REQUEST_BYTES, PolicyServer, ServerConfig
from so101_policy.wire.generations import Protocol

MIB = 1024 * 1024


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="so101-policy-server", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--backend", choices=("gr00t", "replay", "synthetic"), required=True)
    parser.add_argument("--protocol", type=_protocol, default=Protocol.N1_7, metavar="{n1.5,n1.6,n1.7}",
                        help="wire generation to speak: n1.5, n1.6 or n1.7 (default n1.7)")
    parser.add_argument("--host", default=LOOPBACK_HOST, help="address to bind (default loopback only)")
    parser.add_argument("--port", type=int, default=POLICY_PORT, help="0 picks a free port")
    parser.add_argument("--api-token", default=None, help="require this token in every request")
    parser.add_argument("--max-request-mb", type=_positive_megabytes, default=DEFAULT_MAX_REQUEST_BYTES / MIB,
                        help="larger requests get an error reply (default %(default)g)")
    parser.add_argument("--data-config", choices=sorted(DATA_CONFIGS), default=None,
                        help="cameras/joint groups; default so100_dualcam (n1.5) or so100_new_embodiment (n1.6+)")

    gr00t = parser.add_argument_group("gr00t backend (needs Isaac-GR00T and a GPU)")
    gr00t.add_argument("--model-path")
    gr00t.add_argument("--embodiment-tag", default="new_embodiment")
    gr00t.add_argument("--denoising-steps", type=_positive_int, default=None)
    gr00t.add_argument("--device", default="cuda")
    gr00t.add_argument("--no-rtc", dest="rtc", action="store_false",
                       help="N1.7 models: do not pass requests' previous chunks and RTC options to the action head")
    gr00t.add_argument("--clip-outliers", action="store_true",
                       help="with RTC: keep the processor's clipping of inputs to q01..q99 (off by default)")

    served = parser.add_argument_group("replay and synthetic backends")
    served.add_argument("--policy-units", type=JointUnits, choices=list(JointUnits), default=JointUnits.DEGREES,
                        metavar="{radians,degrees,normalized}",
                        help="units of the served chunks, i.e. of the checkpoint being imitated (default degrees)")
    served.add_argument("--calibration", type=Path, help="LeRobot calibration JSON; needed for LeRobot units")
    served.add_argument("--horizon", type=_positive_int, default=None,
                        help="chunk length T (default 16; N1.7 checkpoints go up to 40)")
    served.add_argument("--language-key", default=None, help="override the data config's language key")

    replay = parser.add_argument_group("replay backend")
    replay.add_argument("--dataset", type=Path, help="Isaac Lab HDF5 file or LeRobot v3 dataset directory")
    replay.add_argument("--episode", type=int, default=None, help="default: the first episode")
    replay.add_argument("--units", type=JointUnits, choices=[JointUnits.DEGREES, JointUnits.NORMALIZED],
                        metavar="{degrees,normalized}", default=None,
                        help="LeRobot datasets only (required there): the dataset's action units")
    replay.add_argument("--fps", type=float, default=None,
                        help="serve at this rate (default: the recorded one: HDF5 env_args fps, else 30; LeRobot info.json)")

    synthetic = parser.add_argument_group("synthetic backend (a stand-in for a model: smooth motion from the state)")
    synthetic.add_argument("--latency-ms", type=_non_negative, default=SyntheticConfig.latency_s * 1000,
                           help="every inference's duration (default %(default)g)")
    synthetic.add_argument("--first-latency-ms", type=_non_negative, default=None,
                           help="the first inference's duration (a model's warm-up; default --latency-ms)")
    synthetic.add_argument("--noise-rad", type=_non_negative, default=SyntheticConfig.noise_rad,
                           help="σ of each chunk's offset per joint (default %(default)g)")
    synthetic.add_argument("--seed", type=int, default=SyntheticConfig.seed)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = ServerConfig(protocol=args.protocol, host=args.host, port=args.port, api_token=args.api_token,
                              max_request_bytes=round(args.max_request_mb * MIB))
        if args.api_token is None and not _loopback(args.host):
            logging.getLogger("so101_policy").warning(
                "serving on %s without --api-token: anyone who can reach this port can query the policy and stop "
                "the server. Set --api-token (it travels in clear text), or better keep the loopback default and "
                "use an SSH tunnel", args.host,
            )
        server = PolicyServer(_make_policy(args, parser), config)
    except (PolicyError, CalibrationError, ValueError, KeyError) as exc:
        print(f"so101-policy-server: {exc}", file=sys.stderr)
        return 2
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: server.stop())
    print(f"so101-policy-server: {args.backend} backend on {server.endpoint} ({args.protocol.value})", flush=True)
    server.serve_forever()
    print("so101-policy-server: stopped", flush=True)
    return 0


def _make_policy(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Policy:
    config = data_config(args.data_config) if args.data_config else default_data_config(args.protocol)
    config = config.with_overrides(language_key=args.language_key, action_horizon=args.horizon)
    if args.backend == "gr00t":
        if args.model_path is None:
            parser.error("--backend gr00t needs --model-path")
        from so101_policy.server.backends.gr00t import Gr00tConfig, load_gr00t_policy

        return load_gr00t_policy(
            Gr00tConfig(args.model_path, args.embodiment_tag, config.name, args.denoising_steps, args.device,
                        rtc=args.rtc, clip_outliers=args.clip_outliers),
            args.protocol,
        )
    calibration = read_calibration_file(args.calibration) if args.calibration else None
    if args.backend == "synthetic":
        synthetic = SyntheticConfig(
            latency_s=args.latency_ms / 1000,
            first_latency_s=None if args.first_latency_ms is None else args.first_latency_ms / 1000,
            noise_rad=args.noise_rad, seed=args.seed,
        )
        return SyntheticPolicy(synthetic, config, args.protocol, args.policy_units, calibration)
    if args.dataset is None:
        parser.error("--backend replay needs --dataset")
    from so101_policy.server.backends.replay import ReplayPolicy
    from so101_policy.server.datasets import read_episode

    episode = read_episode(args.dataset, args.episode, args.units, args.fps)
    policy = ReplayPolicy(episode, config, args.protocol, args.policy_units, calibration)
    logging.getLogger("so101_policy").info(
        "replaying %s: %d frames at %g fps, %s → %s", episode.source, len(episode.actions), episode.fps,
        episode.units.value, args.policy_units.value,
    )
    return policy


def _protocol(text: str) -> Protocol:
    try:
        return Protocol.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _positive_megabytes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of megabytes, got {text!r}") from None
    if not (math.isfinite(value) and value * MIB >= 1):
        raise argparse.ArgumentTypeError(f"must be a positive size (at least one byte), got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


if __name__ == "__main__":
    sys.exit(main())
