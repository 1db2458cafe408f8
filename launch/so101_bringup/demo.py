"""The one-command demo on the embedded default: two emulated SO-101 arms, scanned and mirrored.

What runs: a leader bus emulator whose servos follow a scripted, human-like trajectory and a
follower bus emulator whose servos move under position control, both on real pseudo-terminals
with UART timing at 1 Mbps. The demo scans both buses, connects and configures both arms as
LeRobot does, enables follower torque only after a valid position read, and mirrors the leader
onto the follower through the safety filter at a fixed rate. It ends with a summary (rates,
bus cycle times, tracking error, safety counters, the emulator's own check that no goal left the
limits) written to <out>/summary.json.

Later issues grow this into ROS teleop → MuJoCo twin → recorder → policy replay.
"""
from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from so101_calibration import JOINT_NAMES, MOTOR_IDS
from so101_hardware.arm import ArmRole, SO101Arm
from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.emulator import BusEmulator, EmulatorConfig
from so101_hardware.safety import SafetyFilter, SafetyLimits
from so101_hardware.tools.scan import format_table, read_servo_info

TICKS_PER_DEGREE = 4096 / 360.0


@dataclass(frozen=True)
class DemoConfig:
    duration_s: float = 10.0
    rate_hz: float = 100.0
    out_dir: Path = Path("out/demo")
    uart_timing: bool = True
    seed: int = 0
    joint_margin_ticks: int = 50  # keep commands this far inside the 0..4095 servo range
    max_step_ticks: float = 20.0  # per control tick: 2000 ticks/s (176 deg/s) at 100 Hz
    settle_s: float = 1.0  # tracking error is reported after this engage ramp

    def __post_init__(self) -> None:
        if self.duration_s <= 0 or self.rate_hz <= 0:
            raise ValueError("duration_s and rate_hz must be positive")


@dataclass
class DemoSummary:
    ticks: int = 0
    achieved_rate_hz: float = 0.0
    cycle_ms_p50: float = 0.0
    cycle_ms_p99: float = 0.0
    cycle_ms_max: float = 0.0
    tracking_error_deg_mean: dict[str, float] = field(default_factory=dict)
    tracking_error_deg_max: dict[str, float] = field(default_factory=dict)
    safety_counters: dict[str, int] = field(default_factory=dict)
    goals_recorded_by_emulator: int = 0
    goals_outside_limits: int = 0
    bus_errors: dict[str, dict[str, int]] = field(default_factory=dict)


def run_demo(config: DemoConfig, say: Callable[[str], None] = print) -> DemoSummary:
    config.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="so101-demo-") as ports_dir:
        leader_emu = BusEmulator(_emulator_config("leader", Path(ports_dir) / "leader", config))
        follower_emu = BusEmulator(_emulator_config("follower", Path(ports_dir) / "follower", config))
        with leader_emu, follower_emu:
            say(f"emulated leader bus on {leader_emu.port}, follower bus on {follower_emu.port} (1 Mbps, UART timing)")
            leader = SO101Arm(FeetechBus(BusConfig(leader_emu.port)), ArmRole.LEADER)
            follower = SO101Arm(FeetechBus(BusConfig(follower_emu.port, raise_on_servo_error=False)), ArmRole.FOLLOWER)
            for role, arm in (("leader", leader), ("follower", follower)):
                arm.connect()
                say(f"{role} bus scan:")
                for line in format_table([read_servo_info(arm.bus, mid) for mid in arm.ids]).splitlines():
                    say("  " + line)
                arm.configure()
            try:
                summary = _mirror(leader, follower, config, say)
            finally:
                follower.disconnect()
                leader.disconnect()
            lo, hi = _limits(config)
            goals = follower_emu.goal_log
            summary.goals_recorded_by_emulator = len(goals)
            summary.goals_outside_limits = sum(1 for g in goals if g.torque_enabled and not lo <= g.goal_ticks <= hi)
            summary.bus_errors = {"leader": leader.bus.stats.as_dict(), "follower": follower.bus.stats.as_dict()}
    (config.out_dir / "summary.json").write_text(json.dumps(asdict(summary), indent=2))
    _print_summary(summary, config, say)
    return summary


# The follower starts parked away from the leader, so the first ticks show the safety filter's
# step limit ramping it over instead of jumping.
FOLLOWER_PARKED_TICKS = {1: 2048, 2: 1400, 3: 2700, 4: 2500, 5: 2048, 6: 1900}


def _emulator_config(role: str, link: Path, config: DemoConfig) -> EmulatorConfig:
    initial = FOLLOWER_PARKED_TICKS if role == "follower" else None
    return EmulatorConfig(
        ids=MOTOR_IDS, role=role, link=str(link), uart_timing=config.uart_timing, seed=config.seed, initial_positions=initial
    )


def _limits(config: DemoConfig) -> tuple[int, int]:
    return config.joint_margin_ticks, 4095 - config.joint_margin_ticks


def _mirror(leader: SO101Arm, follower: SO101Arm, config: DemoConfig, say: Callable[[str], None]) -> DemoSummary:
    """Leader → safety filter → follower at config.rate_hz for config.duration_s."""
    lo, hi = _limits(config)
    n = len(JOINT_NAMES)
    safety = SafetyFilter(SafetyLimits.create([lo] * n, [hi] * n, config.max_step_ticks, command_timeout_s=0.1))
    safety.reset(follower.enable_torque())
    say(f"follower torque on after a valid read; mirroring the leader at {config.rate_hz:.0f} Hz for {config.duration_s:.0f} s")

    period = 1.0 / config.rate_hz
    cycles, errors = [], []
    start = next_tick = time.monotonic()
    next_report = start + 1.0
    while (now := time.monotonic()) - start < config.duration_s:
        t0 = now
        command = leader.read_positions()
        state = follower.read_state()
        result = safety.apply(command, state.positions, command_age_s=time.monotonic() - t0)
        follower.write_goal_positions(np.rint(result.target).astype(int))
        cycles.append(time.monotonic() - t0)
        if t0 - start >= config.settle_s:
            errors.append(np.abs(state.positions - command) / TICKS_PER_DEGREE)
        if t0 >= next_report:
            error_deg = np.abs(state.positions - command).max() / TICKS_PER_DEGREE
            say(
                f"  t={t0 - start:4.1f} s  {len(cycles) / (t0 - start):6.1f} Hz  cycle p50 "
                f"{np.median(cycles) * 1e3:.2f} ms  largest joint error {error_deg:5.1f} deg  "
                f"step-limited ticks {safety.counters['clamped_step']}"
            )
            next_report += 1.0
        next_tick += period
        time.sleep(max(0.0, next_tick - time.monotonic()))  # pacing the loop, not synchronisation
    elapsed = time.monotonic() - start

    cycle_ms = np.array(cycles) * 1e3
    err = np.array(errors) if errors else np.full((1, n), np.nan)
    return DemoSummary(
        ticks=len(cycles),
        achieved_rate_hz=len(cycles) / elapsed,
        cycle_ms_p50=float(np.percentile(cycle_ms, 50)),
        cycle_ms_p99=float(np.percentile(cycle_ms, 99)),
        cycle_ms_max=float(cycle_ms.max()),
        tracking_error_deg_mean={name: float(v) for name, v in zip(JOINT_NAMES, err.mean(axis=0))},
        tracking_error_deg_max={name: float(v) for name, v in zip(JOINT_NAMES, err.max(axis=0))},
        safety_counters=dict(safety.counters),
    )


def _print_summary(summary: DemoSummary, config: DemoConfig, say: Callable[[str], None]) -> None:
    say("")
    say("summary")
    say(f"  control ticks         {summary.ticks} at {summary.achieved_rate_hz:.1f} Hz (target {config.rate_hz:.0f})")
    say(
        f"  cycle (2 sync reads + 1 sync write)  p50 {summary.cycle_ms_p50:.2f} ms  "
        f"p99 {summary.cycle_ms_p99:.2f} ms  max {summary.cycle_ms_max:.2f} ms"
    )
    say(f"  tracking error follower vs leader after the {config.settle_s:.0f} s engage ramp (deg, includes one tick of lag):")
    for name in JOINT_NAMES:
        say(f"    {name:14s} mean {summary.tracking_error_deg_mean[name]:6.2f}  max {summary.tracking_error_deg_max[name]:6.2f}")
    say(f"  safety filter         {summary.safety_counters}")
    say(
        f"  emulator record       {summary.goals_recorded_by_emulator} goals reached the follower servos, "
        f"{summary.goals_outside_limits} outside the limits"
    )
    say(f"  written               {config.out_dir / 'summary.json'}")
