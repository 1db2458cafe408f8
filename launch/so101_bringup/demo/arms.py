"""The demo's arms: real ports as given, or two emulated buses the demo starts and owns.

Emulated buses outlive the demo's two graphs (the follower stays where teleop left it); each holds
the shipped emulated calibration in its EEPROM, and the leader's hand rests at the scripted
operator's home pose until a demo is recorded.
"""
from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from so101_bringup.demo import operator
from so101_bringup.demo.config import DemoConfig
from so101_bringup.share import config_path
from so101_calibration import read_calibration_file
from so101_hardware.emulator import BusEmulator, EmulatorConfig


@dataclass(frozen=True)
class Arms:
    """Where the arms are: real ports, or the links of the demo's own emulated buses."""

    leader_port: str
    follower_port: str
    leader_calibration: str | None
    follower_calibration: str | None
    leader_id: str | None
    follower_id: str | None
    leader_bus: BusEmulator | None = None
    follower_bus: BusEmulator | None = None


@contextlib.contextmanager
def open_arms(config: DemoConfig, say: Callable[[str], None]) -> Iterator[Arms]:
    if not config.emulated:
        yield Arms(config.leader_port, config.follower_port, config.leader_calibration, config.follower_calibration,
                   config.leader_id, config.follower_id)
        return
    calibrations = {role: config_path("calibration") / f"emulated_{role}.json" for role in ("leader", "follower")}
    with tempfile.TemporaryDirectory(prefix="so101-demo-") as links, contextlib.ExitStack() as stack:
        buses = {
            role: stack.enter_context(BusEmulator(EmulatorConfig(
                role=role, link=str(Path(links) / f"so101_{role}"), calibration=str(calibrations[role]),
                uart_timing=config.uart_timing, seed=config.seed,
            )))
            for role in ("leader", "follower")
        }
        home = operator.leader_script(read_calibration_file(calibrations["leader"]), (operator.HOME,))
        buses["leader"].play_leader_script(home, loop=False)  # the operator's hand rests at home
        say(f"  emulated leader bus on {buses['leader'].port}, follower bus on {buses['follower'].port} "
            f"(STS3215 servos at 1 Mbps{', UART timing' if config.uart_timing else ''})")
        yield Arms(str(buses["leader"].port), str(buses["follower"].port), str(calibrations["leader"]),
                   str(calibrations["follower"]), None, None, buses["leader"], buses["follower"])


def goals_outside_range(arms: Arms) -> tuple[int, int]:
    """The emulated follower's record: Goal_Position writes, and those outside the calibrated range."""
    calibration = read_calibration_file(arms.follower_calibration)
    low = dict(zip(calibration.column("id"), calibration.column("range_min")))
    high = dict(zip(calibration.column("id"), calibration.column("range_max")))
    goals = arms.follower_bus.goal_log
    outside = sum(1 for g in goals if not low[g.motor_id] <= g.requested_ticks <= high[g.motor_id])
    return len(goals), outside
