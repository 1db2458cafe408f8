"""so101-calibrate in a real terminal (pexpect), used as an operator uses it.

The wizard runs as its own process on a pseudo-terminal and talks to an emulated bus served by
this test process. The test plays the operator: it reads the screen, presses Enter, types c or
Ctrl-C, and moves the joints through the emulator between screen reads, as a hand would.
"""
from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pexpect
import pytest

from so101_calibration import JOINT_NAMES, SO101_JOINTS, format_calibration
from so101_hardware.emulator import BusEmulator

SCREEN_TIMEOUT_S = 30  # a wait bound, not a speed claim: generous for a loaded 2-core machine
EEPROM = slice(0, 40)
RECORDED = [j for j in SO101_JOINTS if j.name != "wrist_roll"]

MIDDLE = {1: 2100, 2: 1900, 3: 2000, 4: 2200, 5: 3000, 6: 2500}
"""Actual encoder ticks at the pose the operator calls the middle of the range."""
SWEEP = {1: (600, 500), 2: (700, 650), 3: (550, 800), 4: (900, 400), 6: (300, 1000)}
"""How far (ticks) each recorded joint is moved below and above its middle."""


class Operator:
    """The person at the arm: reads the wizard's screen, answers it, and moves the joints."""

    def __init__(self, emulator: BusEmulator, calibration_root: Path, *args: str):
        self.emulator = emulator
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "LEROBOT"))}
        env["HF_LEROBOT_CALIBRATION"] = str(calibration_root)
        argv = ["-m", "so101_hardware.tools.calibrate", "--port", emulator.port, *args]
        self.child = pexpect.spawn(
            sys.executable, argv, env=env, encoding="utf-8", timeout=SCREEN_TIMEOUT_S, dimensions=(50, 200)
        )

    def sees(self, pattern: str) -> re.Match:
        self.child.expect(pattern)
        return self.child.match

    def enter(self, text: str = "") -> None:
        self.child.sendline(text)

    def ctrl_c(self) -> None:
        self.child.sendintr()

    def move(self, actual: Mapping[int, int]) -> None:
        """Put joints at these actual encoder ticks by hand."""
        if self.emulator.config.role == "leader":
            self.emulator.set_leader_positions(actual)
        else:
            for motor_id, ticks in actual.items():
                self.emulator.servo(motor_id).actual_position = ticks

    def exit_status(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus

    def record_ranges(self) -> None:
        """Sweep each recorded joint down and up, checking the live table follows."""
        for joint in RECORDED:
            down, up = SWEEP[joint.motor_id]
            self.move({joint.motor_id: MIDDLE[joint.motor_id] - down})
            self.sees(_row(joint.name, 2047 - down, 2047 - down, 2047))
            self.move({joint.motor_id: MIDDLE[joint.motor_id] + up})
            self.sees(_row(joint.name, 2047 - down, 2047 + up, 2047 + up))
        self.sees(_row("wrist_roll", 0, 2047, 4095) + r"\s+\(full turn\)")


def _row(name: str, low: int, present: int, high: int) -> str:
    return rf"{name}\s+\|\s+{low}\s+\|\s+{present}\s+\|\s+{high}\b"


def _eeproms(emulator: BusEmulator) -> dict[int, bytes]:
    return {i: emulator.servo(i).memory[EEPROM] for i in emulator.config.ids}


def _expected_file() -> dict:
    expected = {}
    for joint in SO101_JOINTS:
        down, up = SWEEP.get(joint.motor_id, (2047, 2048))  # wrist_roll: 0..4095
        expected[joint.name] = {
            "id": joint.motor_id,
            "drive_mode": 0,
            "homing_offset": MIDDLE[joint.motor_id] - 2047,
            "range_min": 2047 - down,
            "range_max": 2047 + up,
        }
    return expected


def _assert_motors_hold(emulator: BusEmulator, calibration: dict) -> None:
    for name, values in calibration.items():
        servo = emulator.servo(values["id"])
        held = [servo.read_register(r) for r in ("Homing_Offset", "Min_Position_Limit", "Max_Position_Limit")]
        assert held == [values["homing_offset"], values["range_min"], values["range_max"]], name
        assert servo.read_register("Lock") == 1, name


@pytest.fixture
def calibration_root(tmp_path) -> Path:
    return tmp_path / "lerobot_calibration"


@pytest.fixture
def leader(make_emulator) -> BusEmulator:
    emulator = make_emulator(role="leader")
    emulator.set_leader_positions(MIDDLE)  # the operator holds the arm still at the middle pose
    return emulator


@pytest.fixture
def operators(calibration_root) -> Iterator:
    started: list[Operator] = []

    def start(emulator: BusEmulator, *args: str) -> Operator:
        operator = Operator(emulator, calibration_root, *args)
        started.append(operator)
        return operator

    yield start
    for operator in started:
        operator.child.close(force=True)


LEADER_ARGS = ("--role", "leader", "--id", "arm1")


@pytest.mark.timeout(60)
def test_a_new_leader_is_calibrated_saved_and_written_to_eeprom(leader, operators, calibration_root):
    operator = operators(leader, *LEADER_ARGS)
    operator.sees(r"Move the leader arm 'arm1' to the middle of its range of motion and press Enter")
    operator.enter()
    operator.sees(r"Press Enter when done")
    operator.sees(_row("shoulder_pan", 2047, 2047, 2047))  # the middle pose now reads 2047
    operator.enter()  # too early: nothing has moved
    operator.sees(r"Not moved yet: shoulder_pan, shoulder_lift, elbow_flex, wrist_flex, gripper\.")
    operator.record_ranges()
    operator.enter()
    saved = calibration_root / "teleoperators/so_leader/arm1.json"
    operator.sees(rf"Calibration of the leader arm 'arm1' saved to {re.escape(str(saved))}")
    assert operator.exit_status() == 0

    assert json.loads(saved.read_text()) == _expected_file()
    assert list(json.loads(saved.read_text())) == list(JOINT_NAMES)
    _assert_motors_hold(leader, _expected_file())
    leader.power_cycle()
    _assert_motors_hold(leader, _expected_file())  # written while unlocked: it persists


@pytest.mark.timeout(60)
def test_a_follower_holding_torque_is_released_then_calibrated(make_emulator, operators, calibration_root):
    follower = make_emulator(role="follower", initial_positions=MIDDLE)
    for motor_id in follower.config.ids:
        follower.servo(motor_id).write_register("Torque_Enable", 1)
    operator = operators(follower, "--role", "follower", "--id", "arm1")
    operator.sees(r"Releasing torque: the arm goes limp, support it\.")
    operator.sees(r"Move the follower arm 'arm1' to the middle")
    assert all(follower.servo(i).read_register("Torque_Enable") == 0 for i in follower.config.ids)
    operator.enter()
    operator.sees(r"Press Enter when done")
    operator.record_ranges()
    operator.enter()
    operator.sees(r"saved to .*robots/so_follower/arm1\.json")
    assert operator.exit_status() == 0
    assert json.loads((calibration_root / "robots/so_follower/arm1.json").read_text()) == _expected_file()
    _assert_motors_hold(follower, _expected_file())


# --- an existing file -----------------------------------------------------------------------------


def _place(root: Path, text: str) -> Path:
    path = root / "teleoperators/so_leader/arm1.json"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


@pytest.mark.timeout(60)
def test_an_existing_file_that_differs_is_written_to_the_motors_on_enter(
    leader, operators, calibration_root, make_calibration
):
    existing = make_calibration(elbow_flex={"homing_offset": -1947})
    path = _place(calibration_root, format_calibration(existing))
    operator = operators(leader, *LEADER_ARGS)
    operator.sees(rf"Calibration file {re.escape(str(path))} differs from the motors:")
    operator.sees(r"elbow_flex \(motor 3\): homing_offset is -1947 in the file, but Homing_Offset is 0 in the motor")
    operator.sees(r"Press Enter to write the file to the motors, or type c")
    operator.enter()
    operator.sees(rf"The motors now hold {re.escape(str(path))}")
    assert operator.exit_status() == 0
    assert path.read_text() == format_calibration(existing)
    _assert_motors_hold(leader, {name: vars(m) for name, m in existing.motors.items()})


@pytest.mark.timeout(60)
def test_typing_c_confirms_replacing_an_existing_file(leader, operators, calibration_root, make_calibration):
    path = _place(calibration_root, format_calibration(make_calibration()))
    operator = operators(leader, *LEADER_ARGS)
    operator.sees(r"or type c and Enter to calibrate again and replace it: ")
    operator.enter("x")  # anything else is asked again
    operator.sees(r"or type c and Enter to calibrate again and replace it: ")
    operator.enter("c")
    operator.sees(r"to the middle of its range")
    operator.enter()
    operator.sees(r"Press Enter when done")
    operator.record_ranges()
    operator.enter()
    operator.sees(r"saved to")
    assert operator.exit_status() == 0
    assert json.loads(path.read_text()) == _expected_file()


@pytest.mark.timeout(60)
def test_an_invalid_existing_file_is_explained_and_only_replaced_on_c(leader, operators, calibration_root):
    path = _place(calibration_root, '{\n    "shoulder_pan": {\n        "id": 1,\n')
    before = _eeproms(leader)
    operator = operators(leader, *LEADER_ARGS)
    operator.sees(r"The existing calibration file cannot be used:")
    operator.sees(rf"{re.escape(str(path))}: not valid JSON \(the file looks truncated\)")
    operator.sees(r"Type c and press Enter to calibrate again and replace it \(Ctrl-C quits\): ")
    operator.enter()
    operator.sees(r"Type c and press Enter")
    operator.ctrl_c()
    operator.sees(r"so101-calibrate: interrupted")
    assert operator.exit_status() == 130
    assert path.read_text() == '{\n    "shoulder_pan": {\n        "id": 1,\n'
    assert _eeproms(leader) == before


# --- Ctrl-C leaves motors and files unchanged -----------------------------------------------------


def _interrupt_at_existing_file_prompt(operator: Operator) -> None:
    operator.sees(r"type c and Enter to calibrate again")


def _interrupt_at_middle_pose(operator: Operator) -> None:
    operator.sees(r"type c and Enter to calibrate again")
    operator.enter("c")
    operator.sees(r"to the middle of its range of motion and press Enter")


def _interrupt_while_recording(operator: Operator) -> None:
    _interrupt_at_middle_pose(operator)
    operator.enter()  # homing offsets are now in EEPROM
    operator.sees(r"Press Enter when done")
    operator.move({3: MIDDLE[3] - 400})
    operator.sees(_row("elbow_flex", 1647, 1647, 2047))


def _interrupt_after_not_moved(operator: Operator) -> None:
    _interrupt_while_recording(operator)
    operator.enter()
    operator.sees(r"Not moved yet: shoulder_pan")


RESTORING_STAGES = ("range recording", "after not-moved warning")
STAGES = {
    "existing-file prompt": _interrupt_at_existing_file_prompt,
    "middle-pose prompt": _interrupt_at_middle_pose,
    "range recording": _interrupt_while_recording,
    "after not-moved warning": _interrupt_after_not_moved,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stage", STAGES, ids=list(STAGES))
def test_ctrl_c_leaves_motors_and_files_unchanged(leader, operators, calibration_root, make_calibration, stage):
    existing = make_calibration()
    path = _place(calibration_root, format_calibration(existing))
    before = _eeproms(leader)
    operator = operators(leader, *LEADER_ARGS)
    STAGES[stage](operator)
    operator.ctrl_c()
    if stage in RESTORING_STAGES:  # homing offsets were already in EEPROM
        operator.sees(r"calibration registers are restored to what they were")
    operator.sees(r"so101-calibrate: interrupted")
    assert operator.exit_status() == 130
    assert _eeproms(leader) == before
    leader.power_cycle()
    assert _eeproms(leader) == before  # and what persists is the original too
    assert path.read_text() == format_calibration(existing)
    assert sorted(p.name for p in path.parent.iterdir()) == ["arm1.json"]  # no temporary file left


@pytest.mark.timeout(60)
def test_a_joint_on_the_encoder_seam_is_refused_restored_and_asked_again(make_emulator, operators, calibration_root):
    leader = make_emulator(role="leader")
    leader.set_leader_positions({**MIDDLE, 2: 4095})  # homing offset would be 2048: not storable
    before = _eeproms(leader)
    operator = operators(leader, *LEADER_ARGS)
    operator.sees(r"to the middle of its range")
    operator.enter()
    operator.sees(r"shoulder_lift sits on its encoder's seam \(raw 4095\) at this pose")
    operator.sees(r"to the middle of its range")
    assert _eeproms(leader) == before
    operator.move({2: 4000})
    operator.enter()
    operator.sees(r"Press Enter when done")
    operator.sees(_row("shoulder_lift", 2047, 2047, 2047))
    assert leader.servo(2).read_register("Homing_Offset") == 4000 - 2047
    operator.ctrl_c()
    operator.sees(r"calibration registers are restored to what they were")
    assert operator.exit_status() == 130
    assert _eeproms(leader) == before
    assert not calibration_root.exists()


@pytest.mark.timeout(60)
def test_a_file_for_the_other_role_is_refused_before_touching_the_bus(leader, operators, calibration_root):
    path = calibration_root / "teleoperators/so_leader/arm1.json"
    before = _eeproms(leader)
    operator = operators(leader, "--role", "follower", "--id", "arm1", "--calibration", str(path))
    operator.sees(r"error: .*arm1\.json is in a leader folder .* but a follower calibration was asked for")
    assert operator.exit_status() == 1
    assert _eeproms(leader) == before
    assert leader.stats.packets_handled == 0
