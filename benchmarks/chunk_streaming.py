"""Benchmark: streaming GR00T action chunks at 30 Hz: synchronous, cross-fade and real-time chunking (RTC).

Run as `python benchmarks/chunk_streaming.py`. A PolicyServer (n1.7, real ZMQ on loopback) serves
the synthetic backend (a stand-in for a model: each chunk continues a smooth reference motion from
the observed state, offset by per-chunk noise σ = 0.02 rad, after a fixed inference latency; it
honours RTC's frozen prefix as N1.7's action head does) with chunks of 16 and 40 steps, at 50, 150,
300 and 500 ms. Measured the same way, in the same run, for each chunk length and latency:
  - sync: the synchronous reference of the upstream SO-100 clients (docs/reference/gr00t-wire.md §9):
    observe, block on get_action, execute half the chunk (8 of 16) at 30 Hz, repeat;
  - crossfade: our StreamingDriver + ChunkScheduler without RTC (requests off the control thread,
    chunks aligned to their observation time and cross-faded over 0.2 s);
  - rtc: the same with real-time chunking (the canary passes; each request carries the plan's tail).
Per run, for each joint's commanded targets (a tick without a planned action repeats the last
target), with every step taken per control period (a tick the loaded machine delays by k periods
is allowed k periods' worth of motion):
  - the share of control ticks with a planned action (the goal: 100 %);
  - the largest step between consecutive targets (today's `ours_*`/`sync_*` figure);
  - the largest jump at chunk boundaries: how much a tick's step differs from the tick before's.
    A smooth motion changes its step by under 0.001 rad per tick here, so what this shows is the
    discontinuity a chunk boundary adds (a hold, an offset to a new chunk, a blend that moves too
    fast), to be compared with the reference motion's own largest step (`reference_step_rad`);
  - the mean observation → execution delay (how old the observation behind each target is). Measured in steady state, from the third chunk on: every loop starts from rest alike; the
first chunk, predicted while the arm stood still, is executed from its first action when it lands
(the warm-up rule, tested on the emulated follower), which puts it one latency behind the synthetic
motion's clock (an artifact of a motion defined by time: a policy's is defined by the scene), and
the second chunk catches that up. Prints a table, then one JSON line.
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
from so101_policy.server.backends.synthetic import SyntheticConfig, SyntheticPolicy
from so101_policy.streaming import (
    ActionValidator,
    BlendMode,
    ChunkScheduler,
    PolicyChunkSource,
    RtcConfig,
    SchedulerConfig,
    StreamingDriver,
    ValidationConfig,
)

CONTROL_HZ = 30.0
PROTOCOL = Protocol.N1_7
NOISE_RAD = 0.02
MODES = ("sync", "crossfade", "rtc")
STEADY_FROM_CHUNK = 3
"""Ticks are measured once this many chunks have been merged (module docstring: steady state)."""
LEGACY_HORIZON = 16
"""Today's keys (ours_*, sync_*) are the 16-step crossfade and sync runs."""


@dataclass
class Run:
    times: np.ndarray
    planned: np.ndarray
    targets: np.ndarray
    delays_s: np.ndarray
    """Per planned tick: tick time − the observation time of the newest chunk behind it."""

    def _steps(self) -> np.ndarray:
        """(N − 1, 6) each joint's target change between consecutive ticks, per control period."""
        periods = np.maximum(np.diff(self.times) * CONTROL_HZ, 1.0)
        return np.diff(self.targets, axis=0) / periods[:, np.newaxis]

    @property
    def planned_share(self) -> float:
        return float(self.planned.mean()) if len(self.planned) else float("nan")

    @property
    def largest_step(self) -> float:
        return _largest(self._steps()) if len(self.times) > 1 else float("nan")

    @property
    def largest_jump(self) -> float:
        """The largest change of a joint's step from one tick to the next: a boundary's discontinuity."""
        return _largest(np.diff(self._steps(), axis=0)) if len(self.times) > 2 else float("nan")

    @property
    def delay_ms(self) -> float:
        return float(self.delays_s.mean() * 1e3) if len(self.delays_s) else float("nan")


def _largest(values: np.ndarray) -> float:
    return float(np.abs(values).max())


class Rig:
    """A synthetic server with a given latency and chunk length, a client and the observation pieces."""

    def __init__(self, synthetic: SyntheticConfig, horizon: int):
        self.data_config = default_data_config(PROTOCOL).with_overrides(action_horizon=horizon)
        self.server = PolicyServer(SyntheticPolicy(synthetic, self.data_config, PROTOCOL),
                                   ServerConfig(protocol=PROTOCOL, port=0, poll_interval_s=0.02))
        self.thread = self.server.serve_in_thread("bench-policy-server")
        self.client = PolicyClient("127.0.0.1", self.server.port, protocol=PROTOCOL, timeout_s=5.0)
        units = PolicyUnits(JointUnits.RADIANS)
        self.builder = ObservationBuilder(self.data_config, PROTOCOL, units)
        self.decoder = ActionDecoder(self.data_config, PROTOCOL, units)
        rng = np.random.default_rng(1)
        self.frames = {name: rng.integers(0, 256, (480, 640, 3), np.uint8) for name in ("front", "wrist")}
        self.commanded = np.zeros(6)
        """What the arm is at (a perfect follower): the state every observation reports."""

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


def run_async(rig: Rig, seconds: float, rtc: bool) -> Run:
    limits = JointLimits(np.full(6, -np.pi), np.full(6, np.pi))
    scheduler = ChunkScheduler(SchedulerConfig(control_hz=CONTROL_HZ, blend=BlendMode.CROSSFADE),
                               ActionValidator(ValidationConfig(limits)))
    source = PolicyChunkSource(rig.client, rig.builder, rig.decoder, rig.observe, rig.data_config.action_horizon,
                               RtcConfig(enabled=rtc))
    times, planned, targets, delays, observed, chunks = [], [], [], [], None, 0
    with StreamingDriver(scheduler, source) as driver:
        driver.reset(rig.commanded)
        for now in ticks(seconds):
            tick = driver.tick(now)
            accepted = driver.take_accepted()
            observed = accepted[-1].observation_time if accepted else observed
            chunks += len(accepted)
            rig.commanded = tick.target
            if chunks >= STEADY_FROM_CHUNK:
                times.append(now)
                planned.append(tick.planned)
                targets.append(tick.target)
                if tick.planned:
                    delays.append(now - observed)
    if rtc and source.rtc_state.name != "HONOURED":
        raise RuntimeError(f"the synthetic backend should honour RTC; the canary says {source.rtc_state.value}")
    return _after_first_chunk(times, planned, targets, delays)


def run_sync(rig: Rig, seconds: float) -> Run:
    """The upstream loop: block on get_action, execute half the chunk at 30 Hz; ticks spent blocked repeat the target."""
    executed = rig.data_config.action_horizon // 2
    times, planned, targets, delays, queue, observed, chunks = [], [], [], [], [], 0.0, 0
    grid = ticks(seconds)
    for now in grid:
        if queue:
            rig.commanded = queue.pop(0)
            if chunks >= STEADY_FROM_CHUNK:
                times.append(now)
                planned.append(True)
                targets.append(rig.commanded)
                delays.append(now - observed)
            continue
        observation = rig.observe()
        action, _ = rig.client.get_action(rig.builder.build(observation))
        observed, chunks = observation.time, chunks + 1
        queue = list(rig.decoder.decode(action)[:executed])
        blocked_ticks = 1 + int((time.monotonic() - now) * CONTROL_HZ)  # this one and those missed
        if chunks >= STEADY_FROM_CHUNK:
            for missed in range(blocked_ticks):
                times.append(now + missed / CONTROL_HZ)
                planned.append(False)
                targets.append(rig.commanded)
        for _ in range(blocked_ticks - 1):
            next(grid, None)
    return _after_first_chunk(times, planned, targets, delays)


def _after_first_chunk(times: list[float], planned: list[bool], targets: list[np.ndarray], delays: list[float]) -> Run:
    """From the first planned tick on (a sync loop's record starts with the wait for a chunk); a run too short
    to reach steady state has no figures (NaN)."""
    first = planned.index(True) if True in planned else len(planned)
    return Run(np.array(times[first:]), np.array(planned[first:]), np.array(targets[first:]).reshape(-1, 6),
               np.array(delays))


def measure(mode: str, horizon: int, latency_ms: int, seconds: float) -> Run:
    rig = Rig(SyntheticConfig(latency_s=latency_ms / 1000, noise_rad=NOISE_RAD), horizon)
    try:
        return run_sync(rig, seconds) if mode == "sync" else run_async(rig, seconds, rtc=mode == "rtc")
    finally:
        rig.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="control-loop duration per run")
    parser.add_argument("--latencies-ms", type=int, nargs="+", default=[50, 150, 300, 500])
    parser.add_argument("--horizons", type=int, nargs="+", default=[16, 40], help="chunk lengths T")
    args = parser.parse_args()

    reference_step = SyntheticConfig().largest_step_rad
    runs: dict[tuple[str, int, int], Run] = {}
    total = len(MODES) * len(args.horizons) * len(args.latencies_ms)
    for horizon in args.horizons:
        for latency_ms in args.latencies_ms:
            for mode in MODES:
                print(f"[{len(runs) + 1}/{total}] {mode}, {horizon}-step chunks, {latency_ms} ms ...", flush=True)
                runs[(mode, horizon, latency_ms)] = measure(mode, horizon, latency_ms, args.seconds)

    print(f"\nstreaming chunks at {CONTROL_HZ:g} Hz from the synthetic backend, n1.7 over loopback, dual 480×640 "
          f"observations, {args.seconds:g} s per run; chunk noise σ={NOISE_RAD} rad; the reference motion's "
          f"largest step {reference_step:.4f} rad/tick")
    print(f"{'chunk':>5s} {'latency':>8s}  {'mode':10s} {'planned ticks':>14s} {'largest step rad':>17s} "
          f"{'largest jump rad':>17s} {'obs→exec ms':>12s}")
    figures: dict[str, float | int | str] = {"benchmark": "chunk_streaming", "control_hz": CONTROL_HZ,
                                             "seconds_per_run": args.seconds, "blend": BlendMode.CROSSFADE.value,
                                             "reference_step_rad": round(reference_step, 4)}
    for (mode, horizon, latency_ms), run in runs.items():
        print(f"{horizon:5d} {latency_ms:6d}ms  {mode:10s} {run.planned_share:13.1%} {run.largest_step:17.4f} "
              f"{run.largest_jump:17.4f} {run.delay_ms:12.0f}")
        key = f"{mode}_h{horizon}_{latency_ms}ms"
        figures[f"{key}_planned_share"] = round(run.planned_share, 4)
        figures[f"{key}_largest_jump_rad"] = round(run.largest_jump, 4)
        figures[f"{key}_delay_ms"] = round(run.delay_ms, 1)
        if horizon == LEGACY_HORIZON and mode != "rtc":
            legacy = "ours" if mode == "crossfade" else "sync"
            figures[f"{legacy}_{latency_ms}ms_planned_share"] = round(run.planned_share, 4)
            figures[f"{legacy}_{latency_ms}ms_largest_jump_rad"] = round(run.largest_step, 4)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
