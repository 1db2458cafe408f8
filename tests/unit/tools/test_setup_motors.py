"""so101-setup-motors against emulated servos: ids and baud rates written, verified, or left alone."""
from __future__ import annotations

import pytest

from so101_calibration import joint_by_name
from so101_hardware.bus import BusConfig, FeetechBus
from so101_hardware.control_table import STS3215_MODEL_NUMBER
from so101_hardware.sts_protocol import ServoErrorBits
from so101_hardware.tools import cli, setup_motors
from so101_hardware.tools.setup_motors import ServoAddress

GRIPPER = joint_by_name("gripper")
SHOULDER_PAN = joint_by_name("shoulder_pan")
CONTROL_REGISTERS = slice(0, 56)  # EEPROM and control RAM; feedback (56..) changes by itself


def _confirm(_message: str) -> None:
    """The operator connected the motor and pressed Enter."""


def _ctrl_c(_message: str) -> None:
    raise KeyboardInterrupt


def _answers(port: str, motor_id: int, baudrate: int) -> int:
    with FeetechBus(BusConfig(port, baudrate)) as bus:
        return bus.ping(motor_id)


@pytest.mark.timeout(30)
def test_factory_servo_becomes_the_gripper(start_emulator):
    emulator = start_emulator(ids=(1,))
    previous = setup_motors.setup_motor(emulator.port, GRIPPER, _confirm)
    assert previous == ServoAddress(1, 1_000_000)
    servo = emulator.servo(1)
    assert servo.read_register("ID") == 6
    assert servo.read_register("Lock") == 1  # EEPROM locked again
    assert _answers(emulator.port, 6, 1_000_000) == STS3215_MODEL_NUMBER
    emulator.power_cycle()
    assert servo.read_register("ID") == 6  # written while unlocked, so it persists


@pytest.mark.timeout(30)
def test_servo_at_another_baud_gets_id_and_baud(start_emulator):
    emulator = start_emulator(ids=(4,), baudrate=500_000)
    previous = setup_motors.setup_motor(emulator.port, SHOULDER_PAN, _confirm, target_baud=1_000_000)
    assert previous == ServoAddress(4, 500_000)
    assert emulator.servo(4).read_register("ID") == 1
    assert emulator.servo(4).read_register("Baud_Rate") == 0
    assert _answers(emulator.port, 1, 1_000_000) == STS3215_MODEL_NUMBER


@pytest.mark.timeout(30)
def test_already_set_up_motor_is_only_verified(start_emulator):
    emulator = start_emulator(ids=(6,))
    assert setup_motors.setup_motor(emulator.port, GRIPPER, _confirm) == ServoAddress(6, 1_000_000)
    assert emulator.servo(6).read_register("ID") == 6


@pytest.mark.timeout(30)
def test_two_servos_connected_is_refused_and_nothing_written(start_emulator):
    emulator = start_emulator(ids=(1, 2))
    before = {i: emulator.servo(i).memory[CONTROL_REGISTERS] for i in (1, 2)}
    with pytest.raises(cli.ToolError, match=r"2 servos answered .*connect ONLY the gripper motor"):
        setup_motors.setup_motor(emulator.port, GRIPPER, _confirm)
    assert {i: emulator.servo(i).memory[CONTROL_REGISTERS] for i in (1, 2)} == before


@pytest.mark.timeout(30)
def test_a_second_servo_at_another_baud_is_found_too(start_emulator):
    emulator = start_emulator(ids=(1, 2))
    emulator.servo(2).write_register("Baud_Rate", 1)  # now listens at 500000 only
    with pytest.raises(cli.ToolError, match=r"id 1 at 1000000 baud, id 2 at 500000 baud"):
        setup_motors.setup_motor(emulator.port, GRIPPER, _confirm)
    assert emulator.servo(1).read_register("ID") == 1


@pytest.mark.timeout(30)
def test_ctrl_c_at_the_prompt_writes_nothing(start_emulator):
    emulator = start_emulator(ids=(1,))
    before = emulator.servo(1).memory[CONTROL_REGISTERS]
    with pytest.raises(KeyboardInterrupt):
        setup_motors.setup_motor(emulator.port, GRIPPER, _ctrl_c)
    assert emulator.servo(1).memory[CONTROL_REGISTERS] == before
    assert emulator.stats.packets_in == 0  # not even a ping before the operator confirmed


@pytest.mark.timeout(30)
def test_no_servo_connected_says_what_to_check(start_emulator):
    emulator = start_emulator(ids=(1,))
    emulator.unplug_motor(1)
    with pytest.raises(cli.ToolError, match=r"no servo answered .* gripper motor's cable"):
        setup_motors.setup_motor(emulator.port, GRIPPER, _confirm)


@pytest.mark.timeout(30)
def test_servo_reporting_an_error_is_left_alone(start_emulator):
    emulator = start_emulator(ids=(1,))
    emulator.set_error_bits(1, int(ServoErrorBits.VOLTAGE))
    before = emulator.servo(1).memory[CONTROL_REGISTERS]
    with pytest.raises(cli.ToolError, match=r"voltage error.*Nothing was written"):
        setup_motors.setup_motor(emulator.port, GRIPPER, _confirm)
    assert emulator.servo(1).memory[CONTROL_REGISTERS] == before


@pytest.mark.timeout(30)
def test_main_sets_up_one_joint(start_emulator, monkeypatch, capsys):
    emulator = start_emulator(ids=(1,))
    prompts = []
    monkeypatch.setattr("builtins.input", prompts.append)
    assert setup_motors.main(["--port", emulator.port, "--joint", "wrist_roll", "--role", "leader"]) == 0
    assert prompts == ["Connect ONLY the wrist_roll motor of the leader arm to the board, then press Enter. "]
    assert capsys.readouterr().out == "wrist_roll motor: now id 5 at 1000000 baud (was id 1 at 1000000 baud).\n"
    assert emulator.servo(1).read_register("ID") == 5


@pytest.mark.timeout(30)
def test_main_ctrl_c_exits_130_and_writes_nothing(start_emulator, monkeypatch, capsys):
    emulator = start_emulator(ids=(1,))
    before = emulator.servo(1).memory[CONTROL_REGISTERS]
    monkeypatch.setattr("builtins.input", _ctrl_c)
    assert setup_motors.main(["--port", emulator.port]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert emulator.servo(1).memory[CONTROL_REGISTERS] == before


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_main_walks_from_gripper_down_to_shoulder_pan(start_emulator, monkeypatch, capsys):
    emulator = start_emulator(ids=(1,))
    prompts = []
    monkeypatch.setattr("builtins.input", prompts.append)
    assert setup_motors.main(["--port", emulator.port]) == 0
    # One emulated motor stands in for each new motor in turn; it ends as shoulder_pan (id 1).
    assert [prompt.split()[3] for prompt in prompts] == [
        "gripper",
        "wrist_roll",
        "wrist_flex",
        "elbow_flex",
        "shoulder_lift",
        "shoulder_pan",
    ]
    assert emulator.servo(1).read_register("ID") == 1
    assert "All motors are set up" in capsys.readouterr().out
