"""Control-table rules of the emulated STS3215, exercised over the pty with protocol-built packets."""
from __future__ import annotations

import pytest

from so101_hardware import sts_protocol
from so101_hardware.control_table import register
from so101_hardware.sts_protocol import BROADCAST_ID, Instruction

pytestmark = pytest.mark.timeout(30)


def encoded(name: str, value: int) -> bytes:
    return register(name).encode(value)


def write(motor_id: int, name: str, value: int) -> bytes:
    return sts_protocol.write(motor_id, register(name).address, encoded(name, value))


def reply_of(raw: bytes) -> sts_protocol.Packet:
    result = sts_protocol.parse_packet(raw)
    assert result.packet is not None, f"no valid status packet in {raw.hex(' ')}"
    return result.packet


ACK = sts_protocol.status(1)


@pytest.fixture
def emu(make_emulator):
    return make_emulator(initial_positions={1: 100, 2: 2048, 3: 2048})


@pytest.fixture
def client(emu, raw_client):
    return raw_client(emu)


# --- EEPROM, Lock and power cycles ---------------------------------------------------------------


def test_eeprom_write_with_lock_set_takes_effect_but_is_lost_at_power_cycle(emu, client):
    assert emu.servo(1).read_register("Lock") == 1  # power-up default
    assert client.transact(write(1, "Max_Position_Limit", 3000), 6) == ACK
    assert emu.servo(1).read_register("Max_Position_Limit") == 3000
    emu.power_cycle()
    assert emu.servo(1).read_register("Max_Position_Limit") == 4095


def test_eeprom_write_with_lock_clear_persists_and_ram_resets(emu, client):
    for request in (write(1, "Lock", 0), write(1, "Max_Position_Limit", 3000), write(1, "Torque_Enable", 1)):
        assert client.transact(request, 6) == ACK
    assert client.transact(write(1, "Lock", 1), 6) == ACK
    emu.power_cycle()
    servo = emu.servo(1)
    assert servo.read_register("Max_Position_Limit") == 3000
    assert (servo.read_register("Torque_Enable"), servo.read_register("Lock")) == (0, 1)
    assert servo.read_register("Goal_Position") == servo.read_register("Present_Position")


def test_id_change_answers_at_the_new_id_at_once(emu, client):
    reply = client.transact(write(3, "ID", 10), 6)
    assert reply == sts_protocol.status(3)  # acknowledged under the id it was addressed to
    assert reply_of(client.transact(sts_protocol.ping(10), 6)).motor_id == 10
    assert client.silence_after(sts_protocol.ping(3)) == b""
    emu.power_cycle()  # written with Lock=1: not persisted
    assert emu.servo(3).read_register("ID") == 3


def test_id_change_with_lock_clear_survives_power_cycle(emu, client):
    client.transact(write(3, "Lock", 0), 6)
    client.transact(write(3, "ID", 12), 6)
    emu.power_cycle()
    assert reply_of(client.transact(sts_protocol.ping(12), 6)).motor_id == 12


def test_baud_rate_change_makes_the_servo_listen_at_the_new_rate(emu, client, raw_client):
    client.transact(write(2, "Baud_Rate", 4), 6)  # index 4 = 115200
    assert client.silence_after(sts_protocol.ping(2)) == b""
    assert emu.stats.wrong_baud == 1
    client.close()
    slow = raw_client(emu, 115_200)
    assert slow.transact(sts_protocol.ping(2), 6) == sts_protocol.status(2)


# --- homing offset, limits, goals ----------------------------------------------------------------


def test_homing_offset_reference_example(emu, client):
    """LeRobot's half-turn homing: raw 100, offset −1947 (bytes 9B 0F) → Present_Position 2047."""
    assert client.transact(bytes.fromhex("ff ff 01 05 03 1f 9b 0f 2d"), 6) == ACK
    assert client.transact(sts_protocol.read(1, 31, 2), 8)[5:7] == bytes.fromhex("9b 0f")
    assert client.transact(bytes.fromhex("ff ff 01 04 02 38 02 be"), 8) == bytes.fromhex("ff ff 01 04 00 ff 07 f4")
    assert emu.servo(1).actual_position == 100


def test_goal_in_the_homed_frame_moves_the_actual_position(emu):
    servo = emu.servo(1)
    servo.write_register("Homing_Offset", -1947)
    servo.write_register("Torque_Enable", 1)
    servo.write_register("Goal_Position", 2100)
    assert emu.wait_until(lambda: servo.actual_position == 2100 - 1947, 5)
    assert servo.read_register("Present_Position") == 2100


def test_goals_outside_the_limits_are_clamped(emu, client):
    client.transact(write(2, "Min_Position_Limit", 1000), 6)
    client.transact(write(2, "Max_Position_Limit", 3000), 6)
    client.transact(write(2, "Goal_Position", 3500), 6)
    client.transact(sts_protocol.write(2, 42, bytes.fromhex("64 80")), 6)  # −100, sign-magnitude
    client.transact(write(2, "Goal_Position", 2500), 6)
    logged = [(r.requested_ticks, r.goal_ticks) for r in emu.goal_log]
    assert logged == [(3500, 3000), (-100, 1000), (2500, 2500)]
    assert emu.servo(2).read_register("Goal_Position") == 2500


def test_torque_enable_128_makes_the_current_position_read_2048(emu, client):
    client.transact(write(1, "Torque_Enable", 128), 6)
    servo = emu.servo(1)
    assert servo.read_register("Present_Position") == 2048
    assert servo.read_register("Homing_Offset") == 100 - 2048
    assert servo.read_register("Torque_Enable") == 0


# --- reply policy and instruction handling -------------------------------------------------------


def test_response_status_level_0_answers_only_reads_and_pings(emu, client):
    assert client.silence_after(write(1, "Response_Status_Level", 0)) == b""
    assert client.silence_after(write(1, "Acceleration", 10)) == b""
    assert emu.servo(1).read_register("Acceleration") == 10  # executed, just not acknowledged
    assert client.transact(sts_protocol.ping(1), 6) == ACK
    assert reply_of(client.transact(sts_protocol.read(1, 41, 1), 7)).params == bytes((10,))


def test_reg_write_waits_for_action(emu, client):
    assert client.transact(sts_protocol.reg_write(1, 42, encoded("Goal_Position", 2048)), 6) == ACK
    servo = emu.servo(1)
    assert servo.read_register("Goal_Position") != 2048 and emu.goal_log == []
    assert servo.memory[64] == 1  # the async-write flag
    assert client.silence_after(sts_protocol.action()) == b""
    assert servo.read_register("Goal_Position") == 2048 and servo.memory[64] == 0
    assert [(r.motor_id, r.goal_ticks) for r in emu.goal_log] == [(1, 2048)]


def test_writes_to_read_only_bytes_are_ignored_but_acknowledged(emu, client):
    assert client.transact(sts_protocol.write(1, 3, b"\x00\x00"), 6) == ACK  # Model_Number
    assert emu.servo(1).read_register("Model_Number") == 777
    # Lock (55, writable) then Present_Position (56-57, read-only) in one write
    assert client.transact(sts_protocol.write(1, 55, b"\x00\x34\x12"), 6) == ACK
    assert emu.servo(1).read_register("Lock") == 0
    assert emu.servo(1).read_register("Present_Position") == 100


def test_reads_past_the_table_end_return_zeros(client):
    data = reply_of(client.transact(sts_protocol.read(1, 80, 20), 26)).params
    assert len(data) == 20 and data[7:] == bytes(13)


def test_invalid_instructions_are_ignored_and_counted(emu, client):
    bad_checksum = bytearray(sts_protocol.ping(1))
    bad_checksum[-1] ^= 0x01
    client.serial.write(bytes(bad_checksum))
    assert emu.wait_until(lambda: emu.stats.bad_checksum_in == 1, 2)
    assert client.silence_after(sts_protocol.encode_packet(1, Instruction.READ, b"\x38\x02\x00")) == b""
    assert client.silence_after(sts_protocol.encode_packet(1, 0x06)) == b""
    assert client.silence_after(sts_protocol.read(BROADCAST_ID, 56, 2)) == b""
    stats = emu.stats
    assert (stats.malformed, stats.unsupported, stats.replies_out) == (1, 1, 0)
    assert client.transact(sts_protocol.ping(1), 6) == ACK  # and the bus still works


def test_noise_before_a_packet_is_skipped(emu, client):
    assert client.transact(b"\x00\x13\xff" + sts_protocol.ping(1), 6) == ACK
    assert emu.stats.garbage_bytes >= 2


def test_write_register_refuses_read_only_registers(emu):
    with pytest.raises(ValueError, match="read-only"):
        emu.servo(1).write_register("Present_Position", 5)


def test_a_calibration_file_is_held_in_eeprom_from_the_start(make_emulator, tmp_path):
    from so101_calibration import ArmCalibration, MotorCalibration, write_calibration_file
    from so101_calibration.joints import SO101_JOINTS

    motors = {j.name: MotorCalibration(j.motor_id, 0, 10 * j.motor_id - 30, 700 + j.motor_id, 3300) for j in SO101_JOINTS}
    path = tmp_path / "arm.json"
    write_calibration_file(path, ArmCalibration(motors))
    emu = make_emulator(calibration=str(path))
    emu.power_cycle()  # persisted, as after so101-calibrate
    for joint in SO101_JOINTS:
        servo = emu.servo(joint.motor_id)
        assert servo.read_register("Homing_Offset") == 10 * joint.motor_id - 30
        assert servo.read_register("Min_Position_Limit") == 700 + joint.motor_id
        assert servo.read_register("Max_Position_Limit") == 3300
        assert servo.read_register("Lock") == 1
