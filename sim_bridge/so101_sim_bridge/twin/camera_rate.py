"""How fast the twin renders its cameras here: frames per second per camera and image size.

`so101-twin-camera-rate` prints a table and a JSON line (for benchmarks and the README);
measure_camera_rate() is what a benchmark calls. The arm moves between frames, as in use, and the
physics stepping is not counted: only update_scene + render + readback.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass

from so101_sim_bridge.twin.config import TWIN_CAMERAS, TwinCameraConfig, TwinConfig
from so101_sim_bridge.twin.twin import MujocoTwin

DEFAULT_SIZES = ((320, 240), (640, 480))


@dataclass(frozen=True)
class CameraRate:
    camera: str
    width: int
    height: int
    frames: int
    seconds: float

    @property
    def fps(self) -> float:
        return self.frames / self.seconds


def measure_camera_rate(camera: str, width: int, height: int, frames: int = 20) -> CameraRate:
    """Render `frames` frames of one camera (after one warm-up frame) and time them."""
    with MujocoTwin(TwinConfig(cameras=(TwinCameraConfig(camera, width, height),))) as twin:
        twin.render(camera)
        elapsed = 0.0
        for i in range(frames):
            twin.set_targets(["shoulder_pan", "elbow_flex"], [0.3 * (i % 5) / 5, -0.4 * (i % 3) / 3])
            twin.step(1 / 30)
            start = time.perf_counter()
            twin.render(camera)
            elapsed += time.perf_counter() - start
    return CameraRate(camera, width, height, frames, elapsed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    args = parser.parse_args(argv)
    rates = [measure_camera_rate(camera, w, h, args.frames) for w, h in DEFAULT_SIZES for camera in TWIN_CAMERAS]
    print(f"MuJoCo twin camera rate, MUJOCO_GL={os.environ.get('MUJOCO_GL')}, {os.cpu_count()} CPUs")
    print(f"{'camera':8s} {'size':>9s} {'fps':>7s}")
    for rate in rates:
        print(f"{rate.camera:8s} {rate.width:4d}x{rate.height:<4d} {rate.fps:7.1f}")
    print(json.dumps([{**asdict(rate), "fps": round(rate.fps, 2)} for rate in rates]))


if __name__ == "__main__":
    main()
