"""Benchmark: streaming GR00T action chunks at 30 Hz against a server that answers in 50, 150, 300 ms.

Run as `python benchmarks/chunk_streaming.py`. A PolicyServer (n1.7, real ZMQ on loopback)
answers each dual-camera 480×640 observation after a fixed inference latency with a 16-step
chunk that continues a smooth reference trajectory from the time the observation was received,
offset by per-chunk noise (a policy's chunk-to-chunk variance). Measured the same way, at each
latency, in the same run:
  - ours: StreamingDriver + ChunkScheduler (crossfade by default): requests run off the
    control thread, chunks aligned to their observation time and blended;
  - the synchronous reference of the upstream SO-100 clients (docs/reference/gr00t-wire.md §9): observe,
    block on get_action, execute 8 of the 16 actions at 30 Hz, repeat.
Per run: the share of control ticks with a planned action (goal: 100 % at 150 ms) and the
largest step between consecutive commanded targets of any joint (the jumps at chunk
boundaries; a tick without a planned action repeats the last target). Prints a table, then
one JSON line.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np

from so101_calibration import JointLimits
from so101_policy import (
    ActionDecoder,
    JointUnits,
    ObservationBuilder,
    PolicyClient,
    PolicyServer,
    PolicyUnits,
    Protocol,
    RobotObservation,
    ServerConfig,
    default_data_config,
)
from so101_policy.streaming import (
    ActionValidator,
    BlendMode,
    ChunkScheduler,
    PolicyChunkSource,
    SchedulerConfig,
    StreamingDriver,
    ValidationConfig,
)

CONTROL_HZ = 30.0
HORIZON = 16
SYNC_EXECUTED = 8
PROTOCOL = Protocol.N1_7
AMPLITUDE = np.array([0.5, 0.4, 0.4, 0.3, 0.6, 0.3])
FREQUENCY_HZ = 0.25
NOISE_RAD = 0.02


def reference(t: np.ndarray) -> np.ndarray:
    """(N, 6) radians: the motion the policy is imitating."""
    return AMPLITUDE * np.sin(2 * np.pi * FREQUENCY_HZ * np.asarray(t)[:, np.newaxis] + np.arange(6))


class ReferencePolicy:
    """Sleeps `latency_s` (the inference), then continues the reference from the observation's arrival."""

    def __init__(self, latency_s: float, seed: int = 0):
        self.latency_s = latency_s
        self.rng = np.random.default_rng(seed)
        self.config = default_data_config(PROTOCOL)

    def get_action(self, observation, options):
        observed = time.monotonic()
        time.sleep(self.latency_s)
        chunk = reference(observed + np.arange(HORIZON) / CONTROL_HZ) + self.rng.normal(0, NOISE_RAD, 6)
        chunk = chunk.astype(np.float32)[np.newaxis]
        return {"single_arm": chunk[..., :5], "gripper": chunk[..., 5:]}, {}

    def get_modality_config(self):
        return self.config.modality_configs(PROTOCOL)

    def reset(self, options):
        return {}


@dataclass
class Run:
    planned: np.ndarray
    targets: np.ndarray

    @property
    def planned_share(self) -> float:
        return float(self.planned.mean())

    @property
    def largest_jump(self) -> float:
        return float(np.abs(np.diff(self.targets, axis=0)).max())


class Rig:
    """A server with a given latency, a client and the observation pieces, torn down together."""

    def __init__(self, latency_s: float):
        self.server = PolicyServer(ReferencePolicy(latency_s), ServerConfig(protocol=PROTOCOL, port=0))
        self.thread = self.server.serve_in_thread("bench-policy-server")
        self.client = PolicyClient("127.0.0.1", self.server.port, protocol=PROTOCOL, timeout_s=5.0)
        config, units = default_data_config(PROTOCOL), PolicyUnits(JointUnits.RADIANS)
        self.builder = ObservationBuilder(config, PROTOCOL, units)
        self.decoder = ActionDecoder(config, PROTOCOL, units)
        rng = np.random.default_rng(1)
        self.frames = {name: rng.integers(0, 256, (480, 640, 3), np.uint8) for name in ("front", "wrist")}
        self.commanded = reference(np.array([time.monotonic()]))[0]

    def observe(self) -> RobotObservation:
        return RobotObservation(self.commanded.copy(), self.frames, "follow the reference", time.monotonic())

    def close(self) -> None:
        self.client.close()
        self.server.stop()
        self.thread.join()


def ticks(seconds: float):
    """Control tick times at CONTROL_HZ, sleeping until each."""
    start = time.monotonic()
    for n in range(int(seconds * CONTROL_HZ)):
        due = start + n / CONTROL_HZ
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield time.monotonic()


def run_async(latency_s: float, seconds: float, blend: BlendMode) -> Run:
    rig = Rig(latency_s)
    limits = JointLimits(np.full(6, -np.pi), np.full(6, np.pi))
    scheduler = ChunkScheduler(SchedulerConfig(control_hz=CONTROL_HZ, blend=blend),
                               ActionValidator(ValidationConfig(limits)))
    source = PolicyChunkSource(rig.client, rig.builder, rig.decoder, rig.observe)
    planned, targets = [], []
    try:
        with StreamingDriver(scheduler, source) as driver:
            driver.reset(rig.commanded)
            for now in ticks(seconds):
                tick = driver.tick(now)
                rig.commanded = tick.target
                planned.append(tick.planned)
                targets.append(tick.target)
    finally:
        rig.close()
    return _after_first_chunk(planned, targets)


def run_sync(latency_s: float, seconds: float) -> Run:
    """The upstream loop: block on get_action, execute 8 of 16 at 30 Hz; ticks spent blocked repeat the target."""
    rig = Rig(latency_s)
    planned, targets, queue = [], [], []
    grid = ticks(seconds)
    try:
        for _ in grid:
            if queue:
                rig.commanded = queue.pop(0)
                planned.append(True)
                targets.append(rig.commanded)
                continue
            started = time.monotonic()
            action, _ = rig.client.get_action(rig.builder.build(rig.observe()))
            queue = list(rig.decoder.decode(action)[:SYNC_EXECUTED])
            blocked_ticks = 1 + int((time.monotonic() - started) * CONTROL_HZ)  # this one and those missed
            for _ in range(blocked_ticks):
                planned.append(False)
                targets.append(rig.commanded)
            for _ in range(blocked_ticks - 1):
                next(grid, None)
    finally:
        rig.close()
    return _after_first_chunk(planned, targets)


def _after_first_chunk(planned: list[bool], targets: list[np.ndarray]) -> Run:
    """Both loops wait for the first chunk alike; measure from the first planned tick on."""
    first = planned.index(True)
    return Run(np.array(planned[first:]), np.array(targets[first:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="control-loop duration per run")
    parser.add_argument("--latencies-ms", type=int, nargs="+", default=[50, 150, 300])
    parser.add_argument("--blend", type=BlendMode, choices=list(BlendMode), default=BlendMode.CROSSFADE)
    args = parser.parse_args()

    results: dict[int, tuple[Run, Run]] = {}
    for latency_ms in args.latencies_ms:
        results[latency_ms] = (run_async(latency_ms / 1000, args.seconds, args.blend),
                               run_sync(latency_ms / 1000, args.seconds))
    reference_step = float(np.abs(np.diff(reference(np.arange(0, 1 / FREQUENCY_HZ, 1 / CONTROL_HZ)), axis=0)).max())

    print(f"streaming {HORIZON}-step chunks at {CONTROL_HZ:g} Hz, n1.7 over loopback, dual 480×640 observations, "
          f"{args.seconds:g} s per run; chunk noise σ={NOISE_RAD} rad, reference step ≤ {reference_step:.3f} rad/tick")
    print(f"{'latency':>8s}  {'loop':34s} {'planned ticks':>14s} {'largest jump rad':>17s}")
    figures: dict[str, float | int | str] = {"benchmark": "chunk_streaming", "control_hz": CONTROL_HZ,
                                             "seconds_per_run": args.seconds, "blend": args.blend.value,
                                             "reference_step_rad": round(reference_step, 4)}
    for latency_ms, (ours, sync) in results.items():
        for name, run in ((f"ours (async, {args.blend.value})", ours), ("synchronous, 8 of 16 then block", sync)):
            print(f"{latency_ms:6d}ms  {name:34s} {run.planned_share:13.1%} {run.largest_jump:17.4f}")
        figures[f"ours_{latency_ms}ms_planned_share"] = round(ours.planned_share, 4)
        figures[f"ours_{latency_ms}ms_largest_jump_rad"] = round(ours.largest_jump, 4)
        figures[f"sync_{latency_ms}ms_planned_share"] = round(sync.planned_share, 4)
        figures[f"sync_{latency_ms}ms_largest_jump_rad"] = round(sync.largest_jump, 4)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
