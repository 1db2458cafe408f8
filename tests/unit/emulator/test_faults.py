"""Every injectable fault, seen from a real client on the pty."""
from __future__ import annotations

import os

import pytest
import scservo_sdk as scs
import serial

from so101_hardware import sts_protocol
from so101_hardware.emulator import FaultConfig
from so101_hardware.sts_protocol import ServoErrorBits

pytestmark = pytest.mark.timeout(30)

SYNC_READ_ALL = sts_protocol.sync_read(56, 2, (1, 2, 3, 4, 5, 6))


def ids_of(raw: bytes) -> list[int]:
    ids = []
    while raw:
        result = sts_protocol.parse_packet(raw)
        assert result.packet is not None
        ids.append(result.packet.motor_id)
        raw = raw[result.consumed :]
    return ids


def test_drop_rate_one_means_no_reply(make_emulator, raw_client):
    emu = make_emulator(faults=FaultConfig(drop_reply_rate=1.0))
    client = raw_client(emu)
    assert client.silence_after(sts_protocol.ping(1)) == b""
    assert (emu.stats.dropped, emu.stats.replies_out) == (1, 0)
    emu.faults.drop_reply_rate = 0.0  # live
    assert client.transact(sts_protocol.ping(1), 6) == sts_protocol.status(1)


def test_corrupt_rate_one_sends_a_bad_checksum(make_emulator, raw_client, sdk_client):
    emu = make_emulator(faults=FaultConfig(corrupt_checksum_rate=1.0))
    reply = raw_client(emu).transact(sts_protocol.ping(2), 6)
    good = sts_protocol.status(2)
    assert reply[:-1] == good[:-1] and reply[-1] != good[-1]
    assert sts_protocol.parse_packet(reply).bad_checksum
    sdk = sdk_client(emu.port)
    assert sdk.packet.read2ByteTxRx(sdk.port, 2, 56)[1] == scs.COMM_RX_CORRUPT
    assert emu.stats.corrupted == 2


def test_error_bits_appear_in_err_byte_and_status_register(make_emulator, raw_client):
    emu = make_emulator(faults=FaultConfig(error_bits={2: ServoErrorBits.VOLTAGE}))
    client = raw_client(emu)
    assert client.transact(sts_protocol.ping(2), 6) == sts_protocol.status(2, 0x01)
    emu.set_error_bits(3, ServoErrorBits.OVERLOAD | ServoErrorBits.OVERHEAT)
    reply = sts_protocol.parse_packet(client.transact(sts_protocol.read(3, 65, 1), 7)).packet
    assert reply.code == 0x24 and reply.params == b"\x24"
    emu.clear_error_bits(3)
    assert client.transact(sts_protocol.ping(3), 6) == sts_protocol.status(3)


def test_error_byte_0x80_is_rejected_by_the_sdk(make_emulator, sdk_client):
    emu = make_emulator()
    emu.set_error_bits(1, 0x80)
    sdk = sdk_client(emu.port)
    assert sdk.packet.read2ByteTxRx(sdk.port, 1, 56)[1] == scs.COMM_RX_CORRUPT


def test_unplugged_motor_is_silent_until_replugged(make_emulator, raw_client):
    emu = make_emulator()
    client = raw_client(emu)
    emu.unplug_motor(4)
    assert client.silence_after(sts_protocol.ping(4)) == b""
    assert ids_of(client.transact(SYNC_READ_ALL, 40)) == [1, 2, 3, 5, 6]
    assert client.silence_after(sts_protocol.write(4, 40, b"\x01")) == b""
    assert emu.servo(4).read_register("Torque_Enable") == 0  # it did not hear the write either
    emu.replug_motor(4)
    assert client.transact(sts_protocol.ping(4), 6) == sts_protocol.status(4)


def test_unplugged_bus_fails_the_client_and_replug_restores_the_link(make_emulator, raw_client):
    emu = make_emulator()
    link = emu.port
    client = raw_client(emu)
    assert client.transact(sts_protocol.ping(1), 6) == sts_protocol.status(1)
    emu.unplug_bus()
    assert not os.path.lexists(link)
    with pytest.raises(serial.SerialException):
        client.serial.write(sts_protocol.ping(1))
        client.serial.read(6)
    client.close()
    emu.replug_bus()
    assert os.path.islink(link) and emu.port == link
    assert raw_client(emu).transact(sts_protocol.ping(1), 6) == sts_protocol.status(1)


def test_latency_spike_delays_but_keeps_the_reply(make_emulator, raw_client):
    emu = make_emulator(faults=FaultConfig(latency_spike_rate=1.0, latency_spike_s=0.02))
    client = raw_client(emu)
    assert ids_of(client.transact(SYNC_READ_ALL, 48)) == [1, 2, 3, 4, 5, 6]
    assert emu.stats.latency_spikes == 6


def test_late_reply_is_still_in_the_buffer_for_a_client_that_gave_up(make_emulator, sdk_client):
    """The SDK times out before a long spike ends; the reply then sits in its buffer.

    docs/reference/feetech-sts.md §10."""
    emu = make_emulator()
    sdk = sdk_client(emu.port)
    emu.faults.latency_spike_s = 2 * sdk.reply_window_s
    emu.faults.latency_spike_rate = 1.0
    assert sdk.packet.ping(sdk.port, 1)[1] == scs.COMM_RX_TIMEOUT
    assert emu.wait_until(lambda: emu.stats.replies_out == 1, 2)
    emu.faults.latency_spike_rate = 0.0
    assert sdk.port.ser.read(6) == sts_protocol.status(1)


def test_reordered_sync_read_breaks_the_order_dependent_sdk(make_emulator, raw_client, sdk_client):
    emu = make_emulator(faults=FaultConfig(reorder_sync_read_rate=1.0))
    order = ids_of(raw_client(emu).transact(SYNC_READ_ALL, 48))
    assert sorted(order) == [1, 2, 3, 4, 5, 6] and order != [1, 2, 3, 4, 5, 6]
    sdk = sdk_client(emu.port)
    group = scs.GroupSyncRead(sdk.port, sdk.packet, 56, 2)
    for motor_id in (1, 2, 3, 4, 5, 6):
        group.addParam(motor_id)
    assert group.txRxPacket() != scs.COMM_SUCCESS
    assert emu.stats.reordered == 2


def test_client_at_the_wrong_baud_gets_no_reply(make_emulator, raw_client):
    emu = make_emulator()
    client = raw_client(emu, baudrate=115_200)
    assert client.silence_after(sts_protocol.ping(1)) == b""
    assert client.silence_after(sts_protocol.write(1, 40, b"\x01")) == b""
    assert emu.stats.wrong_baud == 2
    assert emu.servo(1).read_register("Torque_Enable") == 0  # garbled at the servo: not executed


def test_a_baud_within_tolerance_is_heard(make_emulator, raw_client):
    emu = make_emulator()
    assert raw_client(emu, baudrate=1_020_000).transact(sts_protocol.ping(1), 6) == sts_protocol.status(1)


def test_scheduled_power_cycles_reset_every_servo_once_each(make_emulator):
    emu = make_emulator(faults=FaultConfig(power_cycle_at_s=(0.3, 0.1)))
    assert emu.wait_until(lambda: emu.stats.power_cycles == 1, 5)
    for motor_id in (1, 6):
        emu.servo(motor_id).write_register("Acceleration", 254)
        emu.servo(motor_id).write_register("Torque_Enable", 1)
    assert emu.wait_until(lambda: emu.stats.power_cycles == 2, 5)
    for motor_id in (1, 6):
        servo = emu.servo(motor_id)
        assert (servo.read_register("Torque_Enable"), servo.read_register("Acceleration")) == (0, 0)
    assert emu.faults.power_cycle_at_s == (0.1, 0.3)


def test_stalls_are_checked_and_only_on_follower_buses(make_emulator):
    with pytest.raises(ValueError, match="outside 0..4095"):
        FaultConfig(stalls={6: 5000})
    emu = make_emulator()
    emu.stall_joint(6, 2100)
    assert emu.faults.stalls == {6: 2100}
    emu.release_joint(6)
    assert emu.faults.stalls == {}
    leader = make_emulator(role="leader")
    with pytest.raises(RuntimeError, match="follower bus"):
        leader.stall_joint(6, 2100)
