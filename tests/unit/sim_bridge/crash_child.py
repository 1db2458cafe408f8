"""Child process of test_crash_safety: records two demos, starts a third, then waits to be killed."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from so101_hardware.cameras import Frame
from so101_sim_bridge.recorder import DemoRecorder, Hdf5DemoWriter, Hdf5WriterConfig, RecorderConfig


def feed(recorder: DemoRecorder, episode: int, steps: int, start: float) -> None:
    for i in range(steps):
        t = start + i / 30
        recorder.add_joint_state(t, np.full(6, episode + 0.01 * i))
        recorder.add_action(t, np.full(6, episode + 0.01 * i))
        recorder.add_frame("wrist", Frame(np.full((48, 64, 3), i % 250, np.uint8), i, t, t))
        recorder.advance(t)


def main(path: str, steps: int) -> None:
    writer = Hdf5DemoWriter(Hdf5WriterConfig(Path(path), flush_every=10))
    recorder = DemoRecorder(RecorderConfig(cameras=("wrist",)), [writer])
    for episode, success in ((0, True), (1, False)):
        start = 100.0 * (episode + 1)
        recorder.start(start, f"episode {episode}", seed=episode)
        feed(recorder, episode, steps, start)
        recorder.stop(start + (steps - 1) / 30, success)
    recorder.start(300.0, "episode 2", seed=2)
    feed(recorder, 2, 3 * steps, 300.0)  # mid-episode, with flushes behind it
    print("RECORDING", flush=True)
    sys.stdin.read()  # blocks until the parent kills us


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
