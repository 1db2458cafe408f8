"""The bus driver against the STS3215 emulator on a real pty, including every fault kind."""
from __future__ import annotations

import errno
import threading
import time

import pytest
import serial

from so101_hardware import sts_protocol
from so101_hardware.bus import BusConfig, FeetechBus, _explain_open_failure
from so101_hardware.errors import (
    BaudRateError,
    BusCollisionError,
    ChecksumError,
    NoStatusPacketError,
    PortError,
    ServoStatusError,
)
from so101_hardware.sts_protocol import ServoErrorBits
from tests_support.pty_peer import ScriptedPeer

IDS = [1, 2, 3, 4, 5, 6]
NAMES = {1: "shoulder_pan", 2: "shoulder_lift", 3: "elbow_flex", 4: "wrist_flex", 5: "wrist_roll", 6: "gripper"}
FAST = dict(timeout_s=0.02, retries=2)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def emu(make_emulator):
    return make_emulator(initial_positions={1: 1000, 2: 1500, 3: 2000, 4: 2500, 5: 3000, 6: 3500})


@pytest.fixture
def bus(emu):
    with FeetechBus(BusConfig(emu.port, **FAST), NAMES) as bus:
        yield bus


def test_ping_read_write(bus, emu):
    assert [bus.ping(i) for i in IDS] == [777] * 6
    assert bus.read(3, "Present_Position") == emu.servo(3).read_register("Present_Position") == 2000
    bus.write(3, "Goal_Position", 2100)
    assert emu.servo(3).read_register("Goal_Position") == 2100


def test_sync_read_and_span(bus, emu):
    assert bus.sync_read("Present_Position", IDS) == {1: 1000, 2: 1500, 3: 2000, 4: 2500, 5: 3000, 6: 3500}
    span = bus.sync_read_span(["Present_Position", "Present_Velocity", "Present_Load"], IDS)
    assert span[6]["Present_Position"] == 3500 and set(span[6]) == {"Present_Position", "Present_Velocity", "Present_Load"}
    with pytest.raises(ValueError, match="not adjacent"):
        bus.sync_read_span(["Present_Position", "Present_Load"], IDS)


def test_sync_write_lands_on_every_servo(bus, emu):
    bus.sync_write("Goal_Position", {i: 2000 + i for i in IDS})
    assert emu.wait_until(lambda: all(emu.servo(i).read_register("Goal_Position") == 2000 + i for i in IDS), 5)


def test_negative_values_use_sign_magnitude(bus, emu):
    bus.write(1, "Lock", 0)
    bus.write(1, "Homing_Offset", -1947)
    assert bus.read(1, "Homing_Offset") == -1947


def test_eeprom_unlocked_restores_lock_even_on_error(bus, emu):
    with pytest.raises(RuntimeError):
        with bus.eeprom_unlocked([1, 2]):
            assert emu.servo(1).read_register("Lock") == 0
            raise RuntimeError("boom")
    assert [emu.servo(i).read_register("Lock") for i in (1, 2)] == [1, 1]


def test_eeprom_unlock_refused_with_torque_on(bus):
    bus.write(2, "Torque_Enable", 1)
    with pytest.raises(Exception, match="torque on"):
        with bus.eeprom_unlocked([2]):
            pass


# --- faults injected in the emulator ---------------------------------------------------------


def test_all_replies_dropped_names_motor_register_and_attempts(bus, emu):
    emu.faults.drop_reply_rate = 1.0
    with pytest.raises(NoStatusPacketError) as info:
        bus.read(3, "Present_Position")
    assert info.value.motor_id == 3 and info.value.attempts == 3
    assert "motor 3 (elbow_flex), register Present_Position" in str(info.value)
    assert bus.stats.timeouts == 3 and bus.stats.retries == 2


def test_some_replies_dropped_are_retried(emu):
    emu.faults.drop_reply_rate = 0.1
    with FeetechBus(BusConfig(emu.port, timeout_s=0.02, retries=5)) as bus:
        for _ in range(30):
            assert len(bus.sync_read("Present_Position", IDS)) == 6
        assert bus.stats.retries > 0 and bus.stats.timeouts == bus.stats.retries
    assert emu.stats.dropped > 0


def test_corrupted_checksums_raise_checksum_error(bus, emu):
    emu.faults.corrupt_checksum_rate = 1.0
    with pytest.raises(ChecksumError, match="bad checksum on 3 attempt"):
        bus.read(2, "Present_Position")
    assert bus.stats.checksum_errors == 3


def test_servo_error_bits_raise_by_default(bus, emu):
    emu.set_error_bits(4, ServoErrorBits.OVERLOAD)
    with pytest.raises(ServoStatusError) as info:
        bus.sync_read("Present_Position", IDS)
    assert info.value.motor_id == 4 and info.value.bits == ServoErrorBits.OVERLOAD
    assert "overload" in str(info.value) and "wrist_flex" in str(info.value)


def test_servo_error_bits_reported_without_losing_data(emu):
    emu.set_error_bits(4, ServoErrorBits.OVERLOAD | ServoErrorBits.OVERHEAT)
    with FeetechBus(BusConfig(emu.port, raise_on_servo_error=False, **FAST)) as bus:
        assert bus.sync_read("Present_Position", IDS)[4] == 2500
        assert bus.servo_errors == {4: ServoErrorBits.OVERLOAD | ServoErrorBits.OVERHEAT}
        assert bus.stats.as_dict()["servo_error_overload"] == 1
        emu.clear_error_bits(4)
        bus.sync_read("Present_Position", IDS)
        assert bus.servo_errors == {}


def test_unplugged_motor_then_replugged(bus, emu):
    emu.unplug_motor(5)
    with pytest.raises(NoStatusPacketError, match="motor 5 \\(wrist_roll\\)"):
        bus.sync_read("Present_Position", IDS)
    emu.replug_motor(5)
    assert len(bus.sync_read("Present_Position", IDS)) == 6


def test_unplugged_bus_is_a_port_error_and_reopen_recovers(bus, emu):
    emu.unplug_bus()
    with pytest.raises(PortError, match="unplugged"):
        bus.sync_read("Present_Position", IDS)
    assert not bus.is_open
    with pytest.raises(PortError, match="does not exist"):
        bus.open()
    emu.replug_bus()
    bus.open()
    assert bus.ping(1) == 777


def test_latency_spike_beyond_timeout_is_retried(bus, emu):
    emu.faults.latency_spike_s = 0.05  # longer than the 20 ms reply window
    emu.faults.latency_spike_rate = 0.5
    for _ in range(10):
        assert bus.read(1, "Present_Position") == 1000
    assert bus.stats.retries > 0


def test_wrong_baud_gets_no_status_packet(emu):
    with FeetechBus(BusConfig(emu.port, baudrate=115_200, **FAST)) as bus:
        with pytest.raises(NoStatusPacketError):
            bus.ping(1)


# --- properties of the transport ---------------------------------------------------------------


def test_waiting_for_a_reply_does_not_burn_a_core(bus, emu):
    """The SDK spins on a non-blocking read; we block in select(). Thread CPU time proves it."""
    emu.faults.drop_reply_rate = 1.0
    slow = FeetechBus(BusConfig(emu.port, timeout_s=0.3, retries=0, exclusive=False))
    slow.open()
    try:
        wall0, cpu0 = time.monotonic(), time.thread_time()
        with pytest.raises(NoStatusPacketError):
            slow.read(1, "Present_Position")
        wall, cpu = time.monotonic() - wall0, time.thread_time() - cpu0
    finally:
        slow.close()
    assert wall >= 0.3
    assert cpu < 0.1 * wall, f"{cpu:.3f} s of CPU while waiting {wall:.3f} s"


def test_the_poll_window_moves_to_where_replies_land(emu):
    """Replies that come 5 ms after their wire time (a USB adapter's latency) teach the bus to poll
    then, not at the wire time; the window never moves past half the reply window."""
    emu.faults.latency_spike_s = 0.005
    emu.faults.latency_spike_rate = 1.0
    with FeetechBus(BusConfig(emu.port, timeout_s=0.02, retries=0)) as late:
        for _ in range(40):
            assert late.read(1, "Present_Position") == 1000
        assert 0.004 < late._reply_lag_s <= 0.01
        late._learn_reply_lag(1.0)  # a reply as late as it can be counts as half the window at most
        assert late._reply_lag_s <= 0.01


def test_concurrent_callers_are_serialised(emu):
    """Serialisation, not speed: a generous reply window keeps a loaded machine from timing out."""
    failures: list[BaseException] = []
    bus = FeetechBus(BusConfig(emu.port, timeout_s=0.5))
    bus.open()

    def hammer(motor_id: int) -> None:
        try:
            for _ in range(50):
                assert bus.read(motor_id, "Present_Position") == emu.servo(motor_id).read_register("Present_Position")
                assert len(bus.sync_read("Present_Position", IDS)) == 6
        except BaseException as exc:  # noqa: BLE001 - collected for the main thread
            failures.append(exc)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in (1, 3, 5, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    bus.close()
    assert not failures and bus.stats.timeouts == 0 and bus.stats.malformed_replies == 0


# --- wire situations from a scripted peer ------------------------------------------------------


def _positions_reply(ids, reverse=False):
    packets = [sts_protocol.status(i, 0, (2000 + i).to_bytes(2, "little")) for i in ids]
    return b"".join(reversed(packets) if reverse else packets)


def test_sync_read_replies_in_any_order_are_accepted():
    with ScriptedPeer(lambda request: _positions_reply(IDS, reverse=True)) as peer:
        with FeetechBus(BusConfig(peer.port, **FAST)) as bus:
            assert bus.sync_read("Present_Position", IDS) == {i: 2000 + i for i in IDS}
            assert bus.stats.retries == 0


def test_a_retry_asks_only_the_motors_that_did_not_answer():
    def respond(request: bytes) -> bytes:
        first = len(peer.requests) == 1
        return _positions_reply([1, 2, 4, 5, 6] if first else [3])

    with ScriptedPeer(respond) as peer:
        with FeetechBus(BusConfig(peer.port, **FAST)) as bus:
            assert bus.sync_read("Present_Position", IDS) == {i: 2000 + i for i in IDS}
    assert peer.requests == [sts_protocol.sync_read(56, 2, IDS), sts_protocol.sync_read(56, 2, [3])]


def test_stale_reply_in_the_buffer_is_flushed_not_taken_as_the_answer():
    fresh = sts_protocol.status(1, 0, (1234).to_bytes(2, "little"))
    with ScriptedPeer(lambda request: fresh) as peer:
        with FeetechBus(BusConfig(peer.port, **FAST)) as bus:
            peer.inject(sts_protocol.status(1, 0, (999).to_bytes(2, "little")))  # a late reply from before
            assert _wait_for(lambda: bus._serial.in_waiting > 0)
            assert bus.read(1, "Present_Position") == 1234


def test_noise_before_a_reply_and_replies_from_other_ids_are_skipped():
    reply = (b"\x00\xfe\x13" + sts_protocol.status(2, 0, (77).to_bytes(2, "little"))
             + sts_protocol.status(1, 0, (55).to_bytes(2, "little")))
    with ScriptedPeer(lambda request: reply) as peer:
        with FeetechBus(BusConfig(peer.port, **FAST)) as bus:
            assert bus.read(1, "Present_Position") == 55


def test_reply_of_the_wrong_length_is_not_trusted():
    with ScriptedPeer(lambda request: sts_protocol.status(1, 0, b"\x01")) as peer:
        with FeetechBus(BusConfig(peer.port, **FAST)) as bus:
            with pytest.raises(NoStatusPacketError):
                bus.read(1, "Present_Position")
            assert bus.stats.malformed_replies == 3


def test_broadcast_ping_lists_every_servo(bus):
    assert bus.broadcast_ping(0.05) == IDS


@pytest.mark.parametrize(
    "replies",
    [
        sts_protocol.status(1) + sts_protocol.status(1),  # two servos with id 1, cleanly apart
        bytes(a | b for a, b in zip(sts_protocol.status(1), sts_protocol.status(2))),  # answers garbling each other
    ],
    ids=["duplicate-id", "garbled"],
)
def test_broadcast_ping_refuses_colliding_replies(replies):
    with ScriptedPeer(lambda request: replies) as peer:
        with FeetechBus(BusConfig(peer.port, **FAST)) as bus:
            with pytest.raises(BusCollisionError, match="one motor at a time"):
                bus.broadcast_ping(0.05)


def _wait_for(condition, timeout_s=2.0) -> bool:
    """For kernel buffer state nothing notifies about; bounded, short polling."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.001)
    return False


# --- bad ports ---------------------------------------------------------------------------------


def test_missing_port_says_what_to_do(tmp_path):
    with pytest.raises(PortError) as info:
        FeetechBus(BusConfig(str(tmp_path / "ttyACM7"))).open()
    assert "does not exist" in str(info.value) and "so101-find-port" in str(info.value)


def test_regular_file_is_not_a_serial_port(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(PortError, match="not a serial port"):
        FeetechBus(BusConfig(str(path))).open()


def test_directory_is_not_a_serial_port(tmp_path):
    with pytest.raises(PortError, match="not a serial port.*so101-find-port"):
        FeetechBus(BusConfig(str(tmp_path))).open()


def test_baud_the_driver_cannot_set_is_its_own_error(emu):
    with pytest.raises(BaudRateError, match="cannot use baud rate"):
        FeetechBus(BusConfig(emu.port, baudrate=2**40)).open()


def test_busy_port_names_the_remedy(emu):
    with FeetechBus(BusConfig(emu.port)):
        with pytest.raises(PortError, match="in use by another process"):
            FeetechBus(BusConfig(emu.port)).open()


def test_permission_message_names_dialout_and_udev():
    """Root (CI) bypasses file permissions, so the errno → message mapping is checked directly."""
    message = _explain_open_failure("/dev/ttyACM0", serial.SerialException(errno.EACCES, "Permission denied"))
    assert "dialout" in message and "so101-udev-rules" in message


def test_invalid_configs_are_refused():
    for bad in (dict(baudrate=0), dict(timeout_s=0), dict(retries=-1)):
        with pytest.raises(ValueError):
            BusConfig("/dev/null", **bad)
