"""Benchmark: building a sensor_msgs/Image from a camera frame with ROS 2's field checks on, as on Humble.

Run as `python benchmarks/image_messages.py`. Humble and Jazzy check every byte of a uint8[] field
set from bytes or a list (under `__debug__`, so always); Kilted does the same with
`ROS_PYTHON_CHECK_FIELDS=1`, which this benchmark sets before the message module is imported.
Measured in the same run, per frame size:
  - the encoder every node uses (so101_hardware.ros.images.image_message: an array.array('B'),
    which the checked setter takes as it is);
  - the baseline: the frame's bytes assigned to `data` (what the encoder did before: the per-byte
    path), goal: the encoder at least 20× faster and within a 30 fps frame budget with room to spare.
Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

os.environ["ROS_PYTHON_CHECK_FIELDS"] = "1"  # before sensor_msgs is imported: read once, at import

import numpy as np  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from so101_hardware.ros.images import image_message  # noqa: E402

SIZES = ((320, 240), (640, 480))
GOAL_SPEEDUP = 20.0


def best_ms(build: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        build()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="frames built per loop (the best one counts)")
    args = parser.parse_args()
    if not Image()._check_fields:
        raise SystemExit("ROS_PYTHON_CHECK_FIELDS=1 did not turn the field checks on (a pre-Kilted rclpy?)")

    rng = np.random.default_rng(0)
    figures: dict[str, float | int | str] = {"benchmark": "image_messages", "rounds": args.rounds}
    print(f"sensor_msgs/Image from an RGB frame, field checks on (ROS_PYTHON_CHECK_FIELDS=1), best of {args.rounds}")
    print(f"{'frame':10s} {'encoder ms':>11s} {'bytes (per-byte check) ms':>26s} {'speedup':>8s}")
    for width, height in SIZES:
        frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)

        def per_byte() -> None:
            Image().data = frame.tobytes()

        ours = best_ms(lambda: image_message(frame, 0.0, "camera"), args.rounds)
        baseline = best_ms(per_byte, max(2, args.rounds // 5))
        key = f"{width}x{height}"
        print(f"{key:10s} {ours:11.3f} {baseline:26.1f} {baseline / ours:8.0f}×")
        figures[f"encoder_{key}_ms"] = round(ours, 4)
        figures[f"per_byte_{key}_ms"] = round(baseline, 3)
        figures[f"speedup_{key}"] = round(baseline / ours, 1)
    figures["goal_speedup"] = GOAL_SPEEDUP
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
