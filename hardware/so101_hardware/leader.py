"""The leader arm: read at a fixed rate, never driven.

Torque stays off (the operator back-drives it); each read is one SYNC_READ of position,
velocity and load, converted to radians and stamped with the time the reply arrived.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from so101_calibration import RADIANS_PER_TICK, UnitConverter
from so101_hardware.arm import SO101Arm
from so101_hardware.connection import ArmConnectionConfig


@dataclass(frozen=True)
class LeaderConfig(ArmConnectionConfig):
    port: str = "/dev/so101_leader"
    arm_id: str = "leader"


@dataclass(frozen=True)
class LeaderSample:
    positions: np.ndarray  # radians
    velocities: np.ndarray  # rad/s
    read_wall: float  # stamp: when the bus reply arrived
    read_monotonic: float


class LeaderReader:
    def __init__(self, arm: SO101Arm, units: UnitConverter):
        self.arm = arm
        self.units = units

    def read(self) -> LeaderSample:
        state = self.arm.read_state()
        return LeaderSample(
            self.units.ticks_to_radians(state.positions),
            state.velocities * RADIANS_PER_TICK,
            state.read_wall,
            state.read_monotonic,
        )
