"""The unmodified PyPI feetech-servo-sdk 1.0.0 against the emulator (docs/reference/feetech-sts.md §10)."""
from __future__ import annotations

import pytest
import scservo_sdk as scs

from so101_hardware.sts_protocol import ServoErrorBits

pytestmark = pytest.mark.timeout(30)

IDS = (1, 2, 3, 4, 5, 6)
START = {1: 1000, 2: 1500, 3: 2000, 4: 2500, 5: 3000, 6: 3500}
PRESENT_POSITION, GOAL_POSITION, ACCELERATION, TORQUE_ENABLE, ID = 56, 42, 41, 40, 5


@pytest.fixture
def emu(make_emulator):
    return make_emulator(initial_positions=START)


@pytest.fixture
def sdk(emu, sdk_client):
    return sdk_client(emu.port)


def test_ping_returns_the_sts3215_model_for_every_servo(sdk):
    for motor_id in IDS:
        assert sdk.packet.ping(sdk.port, motor_id) == (777, scs.COMM_SUCCESS, 0)


def test_ping_of_a_missing_id_times_out(sdk):
    _, result, _ = sdk.packet.ping(sdk.port, 9)
    assert result == scs.COMM_RX_TIMEOUT


def test_single_reads(sdk):
    assert sdk.packet.read1ByteTxRx(sdk.port, 4, ID) == (4, scs.COMM_SUCCESS, 0)
    assert sdk.packet.read2ByteTxRx(sdk.port, 3, PRESENT_POSITION) == (2000, scs.COMM_SUCCESS, 0)


def test_single_writes_land(emu, sdk):
    assert sdk.packet.write1ByteTxRx(sdk.port, 2, ACCELERATION, 254) == (scs.COMM_SUCCESS, 0)
    assert sdk.packet.write2ByteTxRx(sdk.port, 2, GOAL_POSITION, 1600) == (scs.COMM_SUCCESS, 0)
    assert emu.servo(2).read_register("Acceleration") == 254
    assert emu.servo(2).read_register("Goal_Position") == 1600


def test_group_sync_read_of_present_position(sdk):
    group = scs.GroupSyncRead(sdk.port, sdk.packet, PRESENT_POSITION, 2)
    for motor_id in IDS:
        assert group.addParam(motor_id)
    assert group.txRxPacket() == scs.COMM_SUCCESS
    assert {i: group.getData(i, PRESENT_POSITION, 2) for i in IDS} == START


def test_group_sync_write_of_goal_position_lands(emu, sdk):
    goals = {1: 1100, 2: 1600, 3: 2100, 4: 2600, 5: 3100, 6: 3600}
    group = scs.GroupSyncWrite(sdk.port, sdk.packet, GOAL_POSITION, 2)
    for motor_id, goal in goals.items():
        assert group.addParam(motor_id, [scs.SCS_LOBYTE(goal), scs.SCS_HIBYTE(goal)])
    assert group.txPacket() == scs.COMM_SUCCESS
    assert emu.wait_until(lambda: len(emu.goal_log) == 6, 5)
    assert {r.motor_id: r.goal_ticks for r in emu.goal_log} == goals
    assert all(not r.torque_enabled for r in emu.goal_log)
    assert {i: emu.servo(i).read_register("Goal_Position") for i in IDS} == goals


def test_single_read_reports_the_error_byte_but_sync_read_ignores_it(emu, sdk):
    emu.set_error_bits(1, ServoErrorBits.OVERLOAD)
    assert sdk.packet.read2ByteTxRx(sdk.port, 1, PRESENT_POSITION) == (1000, scs.COMM_SUCCESS, 0x20)
    group = scs.GroupSyncRead(sdk.port, sdk.packet, PRESENT_POSITION, 2)
    group.addParam(1)
    assert group.txRxPacket() == scs.COMM_SUCCESS  # the SDK quirk of docs/reference/feetech-sts.md §10


def test_torque_on_through_the_sdk_then_the_goal_is_tracked(emu, sdk):
    assert sdk.packet.write1ByteTxRx(sdk.port, 5, TORQUE_ENABLE, 1) == (scs.COMM_SUCCESS, 0)
    assert sdk.packet.write2ByteTxRx(sdk.port, 5, GOAL_POSITION, 3200) == (scs.COMM_SUCCESS, 0)
    assert emu.wait_until(lambda: emu.servo(5).actual_position == 3200, 5)
    assert sdk.packet.read2ByteTxRx(sdk.port, 5, PRESENT_POSITION) == (3200, scs.COMM_SUCCESS, 0)
