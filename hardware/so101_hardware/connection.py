"""Bring an SO-101 arm up the way every node does: calibration, handshake, EEPROM check, configure.

Shared by the leader and follower nodes (and anything else that opens an arm), so both refuse to
run on the same conditions: a calibration file that cannot be found or read, a motor that does
not answer, or motors whose EEPROM does not hold the file's calibration (then radians would be
computed in one frame and commanded in another). Nothing here rewrites calibration EEPROM;
`so101-calibrate` does that, when the operator says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from so101_calibration import ArmCalibration, ArmRole, UnitConverter, load_calibration, require_motors_match
from so101_hardware.arm import SO101Arm
from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.realtime import RealtimeParameters


@dataclass(frozen=True)
class ArmConnectionConfig(RealtimeParameters):
    """Where an arm is, which calibration it uses, and how its node's process is scheduled (fields are
    ROS parameters of the arm nodes)."""

    port: str = field(default="", metadata={"help": "serial port, e.g. /dev/so101_follower"})
    arm_id: str = field(default="", metadata={"help": "the arm's id: its calibration file is <arm_id>.json"})
    calibration: str = field(
        default="", metadata={"help": "calibration .json or directory; empty: LeRobot's default locations"}
    )
    baudrate: int = 1_000_000
    rate_hz: float = 100.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.port:
            raise ValueError("port is required (e.g. /dev/so101_follower; `so101-find-port` tells which)")
        if not self.arm_id:
            raise ValueError("arm_id is required: the id you calibrated the arm under (so101-calibrate --id)")
        if not 1 <= self.rate_hz <= 1000:
            raise ValueError(f"rate_hz must be within 1..1000, got {self.rate_hz}")


@dataclass
class ConnectedArm:
    arm: SO101Arm
    calibration: ArmCalibration
    units: UnitConverter
    configure_writes: int


def connect_arm(config: ArmConnectionConfig, role: ArmRole, raise_on_servo_error: bool = False) -> ConnectedArm:
    """Open, check and configure the arm; on any failure the port is closed again."""
    calibration, source = load_calibration(role, config.arm_id, config.calibration or None)
    bus = FeetechBus(BusConfig(config.port, config.baudrate, raise_on_servo_error=raise_on_servo_error))
    arm = SO101Arm(bus, role)
    arm.connect()
    try:
        require_motors_match(calibration, bus, source)
        writes = arm.configure()
    except BaseException:
        arm.disconnect(disable_torque=False)
        raise
    # Radians are LeRobot's DEGREES in another unit (so101_calibration.units); use_degrees only
    # matters for normalized values, which the arm nodes do not produce.
    return ConnectedArm(arm, calibration, UnitConverter(calibration, use_degrees=True), writes)
