"""so101_calibration: the single owner of SO-101 joint names, calibration files and unit conversions.

Every other package asks this one what a joint is called and which motor id drives it, so a
renamed joint or a swapped id can only ever be wrong in one place. The same goes for units:
ticks, LeRobot normalized values, ROS radians and simulator values are converted here and
nowhere else (docs/architecture.md §4), because one wrong conversion sends a real arm somewhere unexpected.

Module map: `joints` (names, ids), `roles`, `calibration` (the validated model), `lerobot_json`
(LeRobot's file format), `locations` (where LeRobot keeps files; role and arm checks), `motors`
(EEPROM read/compare/write through any bus), `units` (ticks ↔ normalized ↔ radians), `sim`
(radians ↔ simulator joints), `limits` (safety-filter limits), `console` and `wizard`
(so101-calibrate). The wizard's command line is the only code that imports so101_hardware,
lazily, when the command runs.
"""
from so101_calibration.calibration import (
    CALIBRATION_FIELDS,
    FULL_TURN_JOINT,
    HALF_TURN,
    HOMING_OFFSET_LIMIT,
    MAX_TICK,
    ArmCalibration,
    MotorCalibration,
)
from so101_calibration.errors import (
    AmbiguousCalibrationError,
    CalibrationError,
    CalibrationMismatchError,
    CalibrationNotFoundError,
    InvalidCalibrationError,
    WrongCalibrationError,
)
from so101_calibration.joints import JOINT_NAMES, MOTOR_IDS, SO101_JOINTS, Joint, joint_by_id, joint_by_name
from so101_calibration.lerobot_json import (
    format_calibration,
    parse_calibration,
    read_calibration_file,
    write_calibration_file,
)
from so101_calibration.limits import DEFAULT_MARGIN_RAD, SO101_MODEL_LIMITS_RAD, JointLimits, joint_limits
from so101_calibration.locations import (
    CalibrationLocation,
    calibration_root,
    default_candidates,
    load_calibration,
    locate_calibration,
    role_of_path,
)
from so101_calibration.motors import (
    Mismatch,
    MotorRegisters,
    ServoBus,
    compare_with_motors,
    find_mismatches,
    read_motor_registers,
    require_motors_match,
    write_calibration_to_motors,
)
from so101_calibration.roles import ArmRole
from so101_calibration.sim import (
    LEISAAC_USD_LIMITS_DEG,
    SIM_JOINT_NAMES,
    SimMapping,
    SimMappingConfig,
    SimUnits,
    build_sim_mapping,
    load_sim_mapping_config,
)
from so101_calibration.units import (
    RADIANS_PER_TICK,
    TICKS_PER_TURN,
    NormMode,
    UnitConverter,
    lerobot_norm_modes,
    radians_to_ticks,
    ticks_to_degrees,
    ticks_to_radians,
)

__all__ = [
    "CALIBRATION_FIELDS",
    "DEFAULT_MARGIN_RAD",
    "FULL_TURN_JOINT",
    "HALF_TURN",
    "HOMING_OFFSET_LIMIT",
    "JOINT_NAMES",
    "LEISAAC_USD_LIMITS_DEG",
    "MAX_TICK",
    "MOTOR_IDS",
    "SIM_JOINT_NAMES",
    "SO101_JOINTS",
    "SO101_MODEL_LIMITS_RAD",
    "RADIANS_PER_TICK",
    "TICKS_PER_TURN",
    "AmbiguousCalibrationError",
    "ArmCalibration",
    "ArmRole",
    "CalibrationError",
    "CalibrationLocation",
    "CalibrationMismatchError",
    "CalibrationNotFoundError",
    "InvalidCalibrationError",
    "Joint",
    "JointLimits",
    "Mismatch",
    "MotorCalibration",
    "MotorRegisters",
    "NormMode",
    "ServoBus",
    "SimMapping",
    "SimMappingConfig",
    "SimUnits",
    "UnitConverter",
    "WrongCalibrationError",
    "build_sim_mapping",
    "calibration_root",
    "compare_with_motors",
    "default_candidates",
    "find_mismatches",
    "format_calibration",
    "joint_by_id",
    "joint_by_name",
    "joint_limits",
    "lerobot_norm_modes",
    "load_calibration",
    "load_sim_mapping_config",
    "locate_calibration",
    "parse_calibration",
    "radians_to_ticks",
    "read_calibration_file",
    "read_motor_registers",
    "require_motors_match",
    "role_of_path",
    "ticks_to_degrees",
    "ticks_to_radians",
    "write_calibration_file",
    "write_calibration_to_motors",
]
