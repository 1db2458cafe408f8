"""Feetech STS bus driver: one serial port, many servos, bounded and thread-safe.

Written on pyserial directly rather than on `feetech-servo-sdk`, because the SDK's known quirks
(docs/reference/feetech-sts.md §10) break the properties a robot needs:
  - it busy-spins a core while waiting (serial timeout=0 polling); we block in select();
  - `clearPort()` does not discard stale input, so a late reply is taken as the next answer;
    we flush input before every transaction;
  - its SYNC_READ parser needs replies in list order and ignores error bytes; ours parses
    order-independently and reports each servo's error bits;
  - it has no lock ("Port is in use!"); we serialise every transaction with one lock per bus.
Timeouts are explicit and bounded; retries are counted; every failure is a typed error naming
the motor and register (so101_hardware.errors).
"""
from __future__ import annotations

import errno
import functools
import logging
import os
import select
import termios
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, Sequence

import serial
from serial.tools import list_ports

from so101_hardware import sts_protocol
from so101_hardware.control_table import STS3215_MODEL_NUMBER, Register, register
from so101_hardware.errors import (
    BaudRateError,
    BusCollisionError,
    ChecksumError,
    MotorError,
    NoStatusPacketError,
    PortError,
    ServoStatusError,
    WrongModelError,
)
from so101_hardware.sts_protocol import Packet, ServoErrorBits

log = logging.getLogger("so101_hardware.bus")

BITS_PER_BYTE = 10  # 8N1: start + 8 data + stop
READ_CHUNK = 4096
REPLY_LAG_GAIN = 0.1
"""Weight of the newest transaction in the learned reply lag (FeetechBus._learn_reply_lag)."""
# What a vanished USB adapter raises from reads, writes and buffer flushes.
PORT_FAILURES = (OSError, serial.SerialException, termios.error)


@dataclass(frozen=True)
class BusConfig:
    """How to talk to one bus.

    timeout_s is the reply window per attempt on top of the bytes' own wire time. LeRobot
    effectively uses ~50 ms; USB-serial adapters add 1-16 ms of latency, so much less than
    20 ms risks false timeouts on real hardware.
    """

    port: str
    baudrate: int = 1_000_000
    timeout_s: float = 0.05
    retries: int = 2
    exclusive: bool = True
    raise_on_servo_error: bool = True
    # Poll for at most this long either side of a reply's expected arrival instead of sleeping
    # (lower latency for a bounded CPU cost); 0 always sleeps in select().
    spin_s: float = 0.0002

    def __post_init__(self) -> None:
        if self.baudrate <= 0:
            raise ValueError(f"baudrate must be positive, got {self.baudrate}")
        if not 0 < self.timeout_s <= 5:
            raise ValueError(f"timeout_s must be in (0, 5] s, got {self.timeout_s}")
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries}")
        if not 0 <= self.spin_s <= 0.001:
            raise ValueError(f"spin_s must be in [0, 1] ms, got {self.spin_s}")

    def wire_time_s(self, n_bytes: int) -> float:
        return n_bytes * BITS_PER_BYTE / self.baudrate


@dataclass
class BusStats:
    """Counters for /diagnostics: every failure kind the driver can see, by name."""

    transactions: int = 0
    retries: int = 0
    timeouts: int = 0
    checksum_errors: int = 0
    malformed_replies: int = 0
    port_errors: int = 0
    servo_errors: Counter = field(default_factory=Counter)  # error-bit name → count

    def as_dict(self) -> dict[str, int]:
        flat = {k: v for k, v in vars(self).items() if k != "servo_errors"}
        flat.update({f"servo_error_{name}": count for name, count in self.servo_errors.items()})
        return flat


class _Attempt:
    """Replies collected during one request/response exchange."""

    def __init__(self, expected: Mapping[int, int]):
        self.expected = dict(expected)  # motor id → data bytes expected
        self.replies: dict[int, Packet] = {}
        self.bad_checksum = False

    @property
    def missing(self) -> list[int]:
        return [mid for mid in self.expected if mid not in self.replies]


class FeetechBus:
    """A Feetech STS bus on one serial port. Use as a context manager or call open()/close().

    motor_names (id → name) only improves error messages.
    """

    def __init__(self, config: BusConfig, motor_names: Mapping[int, str] | None = None):
        self.config = config
        self.motor_names = dict(motor_names or {})
        self.stats = BusStats()
        self.servo_errors: dict[int, ServoErrorBits] = {}  # latest error bits per motor
        self._serial: serial.Serial | None = None
        self._lock = threading.RLock()
        self._reply_lag_s = 0.0  # how much later than their wire time replies complete (learned)

    # --- port lifecycle ---------------------------------------------------------------------

    def open(self) -> None:
        with self._lock:
            if self._serial is not None:
                return
            self._serial = _open_serial(self.config)

    def close(self) -> None:
        with self._lock:
            if self._serial is not None:
                try:
                    self._serial.close()
                finally:
                    self._serial = None

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def __enter__(self) -> FeetechBus:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public operations ------------------------------------------------------------------

    def ping(self, motor_id: int) -> int:
        """PING the motor, then read its model number (as the SDK's ping does)."""
        self._exchange(sts_protocol.ping(motor_id), {motor_id: 0}, None)
        return self.read(motor_id, "Model_Number")

    def broadcast_ping(self, window_s: float = 0.1) -> list[int]:
        """Ids that answer a broadcast PING within window_s (every servo replies)."""
        with self._lock:
            port = self._port()
            try:
                port.reset_input_buffer()
                self._write(port, sts_protocol.ping(sts_protocol.BROADCAST_ID))
                buffer = self._read_until(port, time.monotonic() + window_s, lambda _b: False)
            except PORT_FAILURES as exc:
                raise self._port_failure(exc) from exc
        found: list[int] = []
        corrupted = 0
        while buffer:
            result = sts_protocol.parse_packet(buffer)
            if result.consumed == 0:
                break
            del buffer[: result.consumed]
            corrupted += result.bad_checksum or result.discarded > 0
            if result.packet is not None:
                found.append(result.packet.motor_id)
        duplicates = sorted({mid for mid in found if found.count(mid) > 1})
        if duplicates or corrupted:
            # Two servos with one id answer at the same instant and garble each other: refuse to
            # report one servo where there may be two (setting up ids on top of that is how arms
            # end up with two motors answering as one).
            raise BusCollisionError(
                f"{self.config.port}: broadcast ping replies collided ({corrupted} corrupted, duplicate ids "
                f"{duplicates or 'none'}). Two servos may share an id: connect one motor at a time and run "
                "`so101-setup-motors`."
            )
        return sorted(found)

    def read(self, motor_id: int, name: str) -> int:
        reg = register(name)
        reply = self._exchange(sts_protocol.read(motor_id, reg.address, reg.size), {motor_id: reg.size}, reg)
        return reg.decode(reply[motor_id].params)

    def write(self, motor_id: int, name: str, value: int) -> None:
        """Write one register and wait for the servo's acknowledgement (Response_Status_Level 1)."""
        reg = register(name)
        packet = sts_protocol.write(motor_id, reg.address, reg.encode(value))
        if motor_id == sts_protocol.BROADCAST_ID:
            self._send(packet)
        else:
            self._exchange(packet, {motor_id: 0}, reg)

    def sync_read(self, name: str, motor_ids: Sequence[int]) -> dict[int, int]:
        """One register from several motors in one transaction."""
        reg = register(name)
        raw = self.sync_read_bytes(reg.address, reg.size, motor_ids, reg.name)
        return {mid: reg.decode(data) for mid, data in raw.items()}

    def sync_read_span(self, names: Sequence[str], motor_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Several adjacent registers (e.g. position, velocity, load) in one transaction."""
        regs = [register(n) for n in names]
        for prev, nxt in zip(regs, regs[1:]):
            if prev.address + prev.size != nxt.address:
                raise ValueError(f"registers {prev.name} and {nxt.name} are not adjacent")
        start, count = regs[0].address, regs[-1].address + regs[-1].size - regs[0].address
        raw = self.sync_read_bytes(start, count, motor_ids, "+".join(names))
        return {
            mid: {r.name: r.decode(data[r.address - start : r.address - start + r.size]) for r in regs}
            for mid, data in raw.items()
        }

    def sync_read_bytes(self, address: int, count: int, motor_ids: Sequence[int], what: str) -> dict[int, bytes]:
        """SYNC_READ `count` bytes from `address`; only missing motors are asked again on retry."""
        ids = list(dict.fromkeys(motor_ids))
        replies = self._exchange_many(
            lambda pending: _sync_read_request(address, count, tuple(pending)), {mid: count for mid in ids}, what
        )
        return {mid: replies[mid].params for mid in ids}

    def sync_write(self, name: str, values: Mapping[int, int]) -> None:
        """One register on several motors in one packet (no reply, as the protocol defines)."""
        reg = register(name)
        self._send(sts_protocol.sync_write(reg.address, reg.size, {mid: reg.encode(v) for mid, v in values.items()}))

    @contextmanager
    def eeprom_unlocked(self, motor_ids: Iterable[int]) -> Iterator[None]:
        """Lock=0 for the block so EEPROM writes persist; Lock=1 again afterwards, even on error.

        The caller must have torque off: EEPROM must not be written while a servo holds a load.
        """
        ids = list(motor_ids)
        for mid in ids:
            if self.read(mid, "Torque_Enable"):
                raise MotorError(mid, "Torque_Enable", "refusing to unlock EEPROM with torque on", self.motor_names.get(mid))
        for mid in ids:
            self.write(mid, "Lock", 0)
        try:
            yield
        finally:
            for mid in ids:
                self.write(mid, "Lock", 1)

    # --- transactions -----------------------------------------------------------------------

    def _send(self, packet: bytes) -> None:
        """Write a packet no servo answers. Stale input is left for the next exchange, which discards
        it before it writes: flushing here too cost a system call per control cycle."""
        with self._lock:
            port = self._port()
            try:
                self._write(port, packet)
            except PORT_FAILURES as exc:
                raise self._port_failure(exc) from exc

    def _exchange(self, packet: bytes, expected: Mapping[int, int], reg: Register | None) -> dict[int, Packet]:
        label = reg.name if reg else None
        return self._exchange_many(lambda _pending: packet, expected, label)

    def _exchange_many(self, build, expected: Mapping[int, int], label: str | None) -> dict[int, Packet]:
        """Send, collect replies, retry for the motors that did not answer; raise typed errors."""
        attempts = 1 + self.config.retries
        got: dict[int, Packet] = {}
        bad_checksum: set[int] = set()
        with self._lock:
            for attempt in range(attempts):
                pending = {mid: n for mid, n in expected.items() if mid not in got}
                if attempt:
                    self.stats.retries += 1
                result = self._attempt(build(list(pending)), pending)
                got.update(result.replies)
                if result.bad_checksum:
                    bad_checksum.update(result.missing)
                else:
                    bad_checksum.difference_update(result.replies)
                if len(got) == len(expected):
                    break
            self.stats.transactions += 1
        missing = [mid for mid in expected if mid not in got]
        if missing:
            mid = missing[0]
            name = self.motor_names.get(mid)
            if mid in bad_checksum:
                raise ChecksumError(mid, label, attempts, name)
            raise NoStatusPacketError(mid, label, attempts, self.config.timeout_s, name)
        self._note_servo_errors(got, label)
        return got

    def _attempt(self, packet: bytes, expected: Mapping[int, int]) -> _Attempt:
        port = self._port()
        attempt = _Attempt(expected)
        reply_bytes = sum(sts_protocol.status_length(n) for n in expected.values())
        buffer = bytearray()

        def done(buf: bytearray) -> bool:
            self._parse_into(buf, attempt)
            return not attempt.missing

        try:
            port.reset_input_buffer()
            self._write(port, packet)
            due = time.monotonic() + self.config.wire_time_s(len(packet) + reply_bytes)
            self._read_until(port, due + self.config.timeout_s, done, buffer, due + self._reply_lag_s)
        except PORT_FAILURES as exc:
            raise self._port_failure(exc) from exc
        if not attempt.missing:
            self._learn_reply_lag(time.monotonic() - due)
        else:
            if attempt.bad_checksum:
                self.stats.checksum_errors += 1
            else:
                self.stats.timeouts += 1
        return attempt

    def _learn_reply_lag(self, lag_s: float) -> None:
        """Track how late complete replies arrive after their wire time, so the poll window (spin_s)
        opens where they actually land: servo processing, a USB adapter's latency or an emulator's
        scheduling put them a few hundred microseconds after it (bus_cycle benchmark). A running
        average over about ten transactions, kept within half the reply window."""
        lag_s = min(max(lag_s, 0.0), self.config.timeout_s / 2)
        self._reply_lag_s += REPLY_LAG_GAIN * (lag_s - self._reply_lag_s)

    def _parse_into(self, buffer: bytearray, attempt: _Attempt) -> None:
        while len(buffer) >= sts_protocol.STATUS_OVERHEAD:  # shorter cannot hold a status packet yet
            result = sts_protocol.parse_packet(buffer)
            if result.consumed == 0:
                return
            del buffer[: result.consumed]
            if result.bad_checksum:
                attempt.bad_checksum = True
                continue
            packet = result.packet
            if packet is None or packet.motor_id not in attempt.expected:
                continue  # a stray reply from another id (e.g. a late one): not ours
            if len(packet.params) != attempt.expected[packet.motor_id]:
                self.stats.malformed_replies += 1
                continue
            attempt.replies[packet.motor_id] = packet

    def _write(self, port: serial.Serial, packet: bytes) -> None:
        """Write on the descriptor itself, waiting in select() only if the adapter is full.

        pyserial's write() adds a select() per call (~20 µs here, twice per control cycle) even
        when the kernel takes the few bytes of a packet at once.
        """
        fd = port.fileno()
        view = memoryview(packet)
        deadline = time.monotonic() + self.config.timeout_s
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise serial.SerialTimeoutException("write timed out: the adapter is not sending") from None
                select.select([], [fd], [], remaining)

    def _read_until(
        self,
        port: serial.Serial,
        deadline: float,
        done,
        buffer: bytearray | None = None,
        expected_at: float | None = None,
    ) -> bytearray:
        """Wait in select() until done(buffer) or the deadline, without spinning a core.

        Waking from select() costs tens of microseconds of scheduler latency per reply. When the
        reply's last byte is due (expected_at, from the wire time), the wait polls instead for
        at most `spin_s` either side of that instant, then blocks again: a bounded cost per
        transaction, never during a timeout.
        """
        buffer = bytearray() if buffer is None else buffer
        fd = port.fileno()
        spin = self.config.spin_s
        while True:
            now = time.monotonic()
            remaining = deadline - now
            expired = remaining <= 0
            # Past the deadline, still look once more: a thread woken late (a busy PC) finds the reply
            # that did arrive in time rather than calling it lost and asking again.
            remaining = max(remaining, 0.0)
            if expected_at is not None and spin > 0 and not expired:
                if now < expected_at - spin:
                    remaining = min(remaining, expected_at - spin - now)  # sleep until the window opens
                elif now < expected_at + spin:
                    remaining = 0  # inside the window: poll
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                if expired:
                    return buffer
                continue  # the window opened, or the deadline passed (looked at once more above)
            # One read of what is there, on the (non-blocking) descriptor itself: pyserial's read()
            # would add a select() and an ioctl per wake-up, and a sync read wakes once per servo.
            try:
                chunk = os.read(fd, READ_CHUNK)
            except BlockingIOError:
                if expired:
                    return buffer
                continue
            if not chunk:  # readable but empty: the device went away
                raise serial.SerialException("device reports readiness but returned no data (disconnected?)")
            buffer += chunk
            if done(buffer):
                return buffer

    def _note_servo_errors(self, replies: Mapping[int, Packet], label: str | None) -> None:
        first_error: tuple[int, ServoErrorBits] | None = None
        for mid, packet in replies.items():
            if not packet.code and mid not in self.servo_errors:
                continue  # the common case, kept cheap: no error now, none before
            bits = packet.error_bits
            if bits:
                self.servo_errors[mid] = bits
                for bit in ServoErrorBits:
                    if bit in bits:
                        self.stats.servo_errors[str(bit.name).lower()] += 1
                first_error = first_error or (mid, bits)
            else:
                self.servo_errors.pop(mid, None)
        if first_error and self.config.raise_on_servo_error:
            mid, bits = first_error
            raise ServoStatusError(mid, label, bits, self.motor_names.get(mid))

    def _port(self) -> serial.Serial:
        if self._serial is None:
            raise PortError(f"{self.config.port}: bus is not open (call open() or use it as a context manager)")
        return self._serial

    def _port_failure(self, exc: BaseException) -> PortError:
        """The adapter vanished or failed mid-transaction: close so a later open() can recover."""
        self.stats.port_errors += 1
        try:
            self.close()
        except PORT_FAILURES:
            self._serial = None
        return PortError(
            f"{self.config.port}: serial port failed ({exc}). Was the USB cable unplugged? "
            "Re-plug it and reconnect; a udev rule keeps the name stable (so101-udev-rules)."
        )


@functools.lru_cache(maxsize=64)
def _sync_read_request(address: int, count: int, motor_ids: tuple[int, ...]) -> bytes:
    """A control loop sends the same SYNC_READ every cycle: framed once."""
    return sts_protocol.sync_read(address, count, motor_ids)


def _open_serial(config: BusConfig) -> serial.Serial:
    """Open the port or raise a PortError that says what to do."""
    try:
        # timeout=0: the descriptor is non-blocking; FeetechBus waits in select() itself.
        return serial.Serial(
            config.port, config.baudrate, bytesize=8, parity="N", stopbits=1, timeout=0, exclusive=config.exclusive
        )
    except serial.SerialException as exc:
        raise PortError(_explain_open_failure(config.port, exc)) from None
    except (ValueError, OverflowError) as exc:  # pyserial or the OS: a baud rate it cannot set
        raise BaudRateError(f"{config.port}: cannot use baud rate {config.baudrate}: {exc}") from None


def _explain_open_failure(port: str, exc: serial.SerialException) -> str:
    code = exc.errno if isinstance(exc.errno, int) else None
    if code == errno.ENOENT or "No such file" in str(exc):
        ports = ", ".join(p.device for p in list_ports.comports()) or "none found"
        return (
            f"{port} does not exist (serial ports present: {ports}). Is the arm's USB cable plugged in and "
            "powered? `so101-find-port` finds which port is the arm."
        )
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in str(exc):
        return (
            f"no permission to open {port}. Add yourself to the dialout group "
            "(`sudo usermod -aG dialout $USER`, then log out and in) or install the udev rules "
            "printed by `so101-udev-rules`."
        )
    if code in (errno.EBUSY, errno.EAGAIN) or "busy" in str(exc).lower() or "lock" in str(exc).lower():
        return f"{port} is in use by another process (find it with `fuser {port}`); only one program may own a bus."
    if code in (errno.ENOTTY, errno.EISDIR) or "Inappropriate ioctl" in str(exc) or "Is a directory" in str(exc):
        return f"{port} is not a serial port. Give the arm's port, e.g. /dev/ttyACM0; `so101-find-port` tells which."
    return f"cannot open {port}: {exc}"


def expect_model(bus: FeetechBus, motor_id: int, model: int) -> None:
    """Raise if a motor is not the model we drive (SO-101 arms use only STS3215)."""
    if model != STS3215_MODEL_NUMBER:
        raise WrongModelError(
            f"{bus.config.port}: motor {motor_id} reports model {model}, expected STS3215 ({STS3215_MODEL_NUMBER})"
        )
