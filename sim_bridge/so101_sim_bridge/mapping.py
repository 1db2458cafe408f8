"""The simulator mapping as node parameters: which sim joint names and units, and whose calibration.

The twin bridge (commands to the simulator) and the recorder (Isaac Lab HDF5 in the simulator's
units) must convert with the same mapping, or the recorded demos would not replay in the scene
they were recorded from; both node configs inherit these fields, so both take the same parameters
and build the mapping the same way, through so101_calibration (the only place units live).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from so101_calibration import (
    SIM_JOINT_NAMES,
    ArmCalibration,
    ArmRole,
    SimMapping,
    SimMappingConfig,
    SimUnits,
    build_sim_mapping,
    load_calibration,
    load_sim_mapping_config,
)


@dataclass(frozen=True)
class SimMappingParameters:
    """Mapping and calibration parameters shared by the twin bridge and the recorder."""

    sim_names: str = field(
        default="so101", metadata={"help": f"sim joint names preset: {', '.join(SIM_JOINT_NAMES)}"}
    )
    sim_units: str = field(
        default="physical",
        metadata={"help": "physical (radians unchanged) | leisaac (LeIsaac's USD; needs calibration)"},
    )
    sim_map: str = field(
        default="",
        metadata={"help": "YAML sim mapping (names, units, scale, offset); replaces sim_names and sim_units"},
    )
    arm_id: str = field(
        default="", metadata={"help": "id of the arm whose calibration converts units; empty: follower (or leader)"}
    )
    calibration: str = field(
        default="", metadata={"help": "calibration .json or directory; empty: LeRobot's default locations"}
    )

    def __post_init__(self) -> None:
        if self.sim_names not in SIM_JOINT_NAMES:
            raise ValueError(f"sim_names {self.sim_names!r} unknown; presets are {', '.join(SIM_JOINT_NAMES)}")
        units = [u.value for u in SimUnits]
        if self.sim_units not in units:
            raise ValueError(f"sim_units {self.sim_units!r} unknown; use {' or '.join(units)}")

    def mapping_config(self) -> SimMappingConfig:
        """The mapping the parameters describe; a sim_map file that misses a joint is a ValueError naming it."""
        if self.sim_map:
            return load_sim_mapping_config(self.sim_map)
        return SimMappingConfig(SIM_JOINT_NAMES[self.sim_names], SimUnits(self.sim_units))

    def load_arm_calibration(self, role: ArmRole) -> ArmCalibration:
        """The calibration of arm_id, by default the arm nodes' default id: the role's name (CalibrationError
        says where it looked)."""
        return self.locate_arm_calibration(role)[0]

    def locate_arm_calibration(self, role: ArmRole) -> tuple[ArmCalibration, Path]:
        """load_arm_calibration's calibration, and the file it was read from."""
        return load_calibration(role, self.arm_id_for(role), self.calibration or None)

    def arm_id_for(self, role: ArmRole) -> str:
        """arm_id, or the arm nodes' default id: the role's name."""
        return self.arm_id or role.value

    def build_mapping(self, role: ArmRole) -> SimMapping:
        """The SimMapping; leisaac units load the calibration of `role`'s arm (the arm the radians come from)."""
        config = self.mapping_config()
        calibration = self.load_arm_calibration(role) if config.units is SimUnits.LEISAAC else None
        return build_sim_mapping(config, calibration)
