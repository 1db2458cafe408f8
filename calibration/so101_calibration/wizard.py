"""so101-calibrate: calibrate an SO-101 arm the way LeRobot does, and save a LeRobot calibration file.

The procedure is LeRobot 0.4.4's:
  1. If the arm already has a calibration file, say whether the motors hold it, then either keep it
     (writing it to the motors if they differ) or, when you type c, calibrate again and replace it.
  2. Torque off. You put the arm in the middle of its range and press Enter: the homing offsets that
     make that pose read 2047 are written to the motors' EEPROM (unlocked, then locked again).
  3. You move every joint except wrist_roll through its whole range while a live table shows
     min / present / max; Enter ends it. wrist_roll is a full-turn joint: always 0..4095.
  4. Offsets and limits go to EEPROM, then the file is written (atomically) and checked against the motors.

Ctrl-C at any point leaves the motors' calibration registers and the file as they were: nothing
is written before you confirm the middle pose, and registers written after that are restored.
Torque stays off (a limp arm is the safe state). Unlike LeRobot, the wizard leaves Operating_Mode
alone: reading positions does not depend on it, and configuring motors is SO101Arm.configure()'s job.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from so101_calibration.calibration import (
    FULL_TURN_JOINT,
    HALF_TURN,
    HOMING_OFFSET_LIMIT,
    MAX_TICK,
    ArmCalibration,
    MotorCalibration,
)
from so101_calibration.console import Console
from so101_calibration.errors import CalibrationMismatchError, InvalidCalibrationError
from so101_calibration.joints import MOTOR_IDS, SO101_JOINTS
from so101_calibration.lerobot_json import read_calibration_file, write_calibration_file
from so101_calibration.locations import CalibrationLocation, check_arm_id
from so101_calibration.motors import (
    MotorRegisters,
    ServoBus,
    compare_with_motors,
    find_mismatches,
    read_motor_registers,
    write_calibration_to_motors,
    write_motor_registers,
)
from so101_calibration.roles import ArmRole

PROG = "so101-calibrate"
RECALIBRATE = "c"
RANGE_RECORDED = tuple(joint for joint in SO101_JOINTS if joint.name != FULL_TURN_JOINT)
OPEN_LIMITS = MotorRegisters(homing_offset=0, range_min=0, range_max=MAX_TICK)
"""LeRobot's reset before homing: no offset, no position limits."""

Uninterruptible = Callable[[], AbstractContextManager[object]]
"""Holds Ctrl-C back for a block that must not be left half done (EEPROM writes + file save)."""


class CalibrationWizard:
    """The interactive procedure for one arm on an open bus whose six motors have answered."""

    def __init__(
        self,
        bus: ServoBus,
        console: Console,
        location: CalibrationLocation,
        *,
        refresh_s: float = 0.05,
        uninterruptible: Uninterruptible = nullcontext,
    ):
        self._bus = bus
        self._console = console
        self._location = location
        self._refresh_s = refresh_s
        self._uninterruptible = uninterruptible
        self._original: dict[str, MotorRegisters] = {}
        self._eeprom_changed = False

    @property
    def _arm_label(self) -> str:
        return f"{self._location.role.value} arm {self._location.arm_id!r}"

    def run(self) -> Path:
        """Calibrate (or keep the existing file); returns the file that now matches the motors."""
        self._original = read_motor_registers(self._bus)
        if self._location.existing is not None and not self._replace_existing(self._location.existing):
            return self._location.existing
        self._release_torque()
        try:
            calibration = self._calibrate()
        except BaseException:
            self._restore_if_changed()
            raise
        self._commit(calibration, self._location.targets)
        self._verify(calibration, self._location.targets[0])
        saved = ", ".join(map(str, self._location.targets))
        self._console.say(f"Calibration of the {self._arm_label} saved to {saved}.")
        return self._location.targets[0]

    # --- step 1: an existing file ------------------------------------------------------------

    def _replace_existing(self, path: Path) -> bool:
        """Show the existing file's state; True if the operator chose to calibrate again."""
        try:
            existing = read_calibration_file(path)
        except InvalidCalibrationError as exc:
            self._console.say(f"The existing calibration file cannot be used:\n  {exc}")
            prompt = f"Type {RECALIBRATE} and press Enter to calibrate again and replace it (Ctrl-C quits): "
            while self._ask_choice(prompt) != RECALIBRATE:
                pass
            return True
        mismatches = find_mismatches(existing, self._original)
        if mismatches:
            details = "\n".join(f"  {m}" for m in mismatches)
            self._console.say(f"Calibration file {path} differs from the motors:\n{details}")
            keep = "Press Enter to write the file to the motors"
        else:
            self._console.say(f"Calibration file {path} matches the motors.")
            keep = "Press Enter to keep it"
        prompt = f"{keep}, or type {RECALIBRATE} and Enter to calibrate again and replace it: "
        while (choice := self._ask_choice(prompt)) not in ("", RECALIBRATE):
            pass
        if choice == RECALIBRATE:
            return True
        if mismatches:
            self._release_torque()
            self._commit(existing, files=())
            self._verify(existing, path)
            self._console.say(f"The motors now hold {path}.")
        else:
            self._console.say(f"Kept {path}; the motors already hold it.")
        return False

    def _ask_choice(self, prompt: str) -> str:
        return self._console.ask(prompt).strip().lower()

    # --- steps 2 and 3: homing and ranges ----------------------------------------------------

    def _release_torque(self) -> None:
        holding = [joint for joint in SO101_JOINTS if self._bus.read(joint.motor_id, "Torque_Enable")]
        if holding:
            self._console.say("Releasing torque: the arm goes limp, support it.")
            for joint in holding:
                self._bus.write(joint.motor_id, "Torque_Enable", 0)

    def _calibrate(self) -> ArmCalibration:
        offsets = self._home()
        mins, maxes = self._record_ranges()
        try:
            return ArmCalibration(
                {
                    joint.name: MotorCalibration(
                        id=joint.motor_id,
                        drive_mode=0,  # LeRobot's SO classes never use 1
                        homing_offset=offsets[joint.name],
                        range_min=mins.get(joint.name, 0),
                        range_max=maxes.get(joint.name, MAX_TICK),
                    )
                    for joint in SO101_JOINTS
                }
            )
        except InvalidCalibrationError as exc:
            raise exc.with_source("the recorded calibration") from None

    def _home(self) -> dict[str, int]:
        """LeRobot's set_half_turn_homings: offsets that make the middle pose read 2047."""
        while True:
            self._console.ask(f"Move the {self._arm_label} to the middle of its range of motion and press Enter...")
            self._eeprom_changed = True
            write_motor_registers(self._bus, {joint.name: OPEN_LIMITS for joint in SO101_JOINTS})
            raw = self._bus.sync_read("Present_Position", MOTOR_IDS)
            offsets = {joint.name: raw[joint.motor_id] - HALF_TURN for joint in SO101_JOINTS}
            unstorable = [name for name, offset in offsets.items() if abs(offset) > HOMING_OFFSET_LIMIT]
            if not unstorable:
                homed = {name: MotorRegisters(offset, 0, MAX_TICK) for name, offset in offsets.items()}
                write_motor_registers(self._bus, homed)
                return offsets
            self._restore_if_changed()
            self._console.say(
                f"{', '.join(unstorable)} sits on its encoder's seam (raw {MAX_TICK}) at this pose, so its offset "
                f"would not fit the servo (Homing_Offset holds ±{HOMING_OFFSET_LIMIT}). Move it a little, try again."
            )

    def _record_ranges(self) -> tuple[dict[str, int], dict[str, int]]:
        """LeRobot's record_ranges_of_motion for every joint but wrist_roll, until Enter."""
        self._console.say(
            f"Move each joint except {FULL_TURN_JOINT} through its entire range of motion, one after the other.\n"
            f"{FULL_TURN_JOINT} turns fully and is recorded as 0..{MAX_TICK}. Press Enter when done."
        )
        start = self._bus.sync_read("Present_Position", MOTOR_IDS)
        mins = {joint.name: start[joint.motor_id] for joint in RANGE_RECORDED}
        maxes = dict(mins)
        while True:
            present = self._bus.sync_read("Present_Position", MOTOR_IDS)
            for joint in RANGE_RECORDED:
                mins[joint.name] = min(mins[joint.name], present[joint.motor_id])
                maxes[joint.name] = max(maxes[joint.name], present[joint.motor_id])
            self._console.show_live(range_table(present, mins, maxes))
            if self._console.enter_pressed(self._refresh_s):
                still = [name for name in mins if mins[name] == maxes[name]]
                if not still:
                    return mins, maxes
                self._console.say(
                    f"Not moved yet: {', '.join(still)}. Move each through its whole range, then press Enter."
                )

    # --- step 4 and safety nets -----------------------------------------------------------

    def _commit(self, calibration: ArmCalibration, files: Sequence[Path]) -> None:
        """Calibration into EEPROM, then into the files; motors restored if that cannot finish."""
        try:
            with self._uninterruptible():
                self._eeprom_changed = True
                write_calibration_to_motors(self._bus, calibration)
                for path in files:
                    write_calibration_file(path, calibration)
                self._eeprom_changed = False  # committed: the motors hold what the files say
        except BaseException:
            self._restore_if_changed()
            raise

    def _restore_if_changed(self) -> None:
        """Put back the calibration registers the motors had when the wizard started."""
        if not self._eeprom_changed:
            return
        try:
            with self._uninterruptible():
                write_motor_registers(self._bus, self._original)
        except Exception as exc:
            self._console.say(
                f"COULD NOT RESTORE the motors' calibration registers ({exc}); they may hold a partial "
                f"calibration. Fix the bus and run {PROG} again."
            )
            raise
        self._eeprom_changed = False
        self._console.say("The motors' calibration registers are restored to what they were.")

    def _verify(self, calibration: ArmCalibration, source: Path) -> None:
        mismatches = compare_with_motors(calibration, self._bus)
        if mismatches:
            raise CalibrationMismatchError(str(source), mismatches)


def range_table(present: Mapping[int, int], mins: Mapping[str, int], maxes: Mapping[str, int]) -> list[str]:
    """LeRobot's NAME | MIN | POS | MAX table; the full-turn joint shows its fixed 0..4095."""
    lines = [f"{'NAME':<15} | {'MIN':>6} | {'POS':>6} | {'MAX':>6}"]
    for joint in SO101_JOINTS:
        low, high = mins.get(joint.name, 0), maxes.get(joint.name, MAX_TICK)
        note = "  (full turn)" if joint.name not in mins else ""
        lines.append(f"{joint.name:<15} | {low:>6} | {present[joint.motor_id]:>6} | {high:>6}{note}")
    return lines


# --- command-line arguments (the command itself is so101_hardware.tools.calibrate) -------------


def _arm_id(text: str) -> str:
    try:
        return check_arm_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--role, --id and --calibration, shared with LeRobot's meaning of each."""
    parser.add_argument("--role", required=True, choices=[role.value for role in ArmRole], help="which arm")
    parser.add_argument(
        "--id", required=True, type=_arm_id, dest="arm_id", help="the arm's id: LeRobot's --robot.id / --teleop.id"
    )
    parser.add_argument(
        "--calibration",
        type=Path,
        metavar="PATH",
        help="a .json file, or a directory holding <id>.json (LeRobot's calibration_dir). Default: LeRobot's "
        "folders under $HF_LEROBOT_CALIBRATION (or $HF_LEROBOT_HOME/calibration, ~/.cache/huggingface/lerobot/"
        "calibration), so_follower/so_leader and the older so101_follower/so101_leader",
    )
