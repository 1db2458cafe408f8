"""Clients for the emulator tests: raw pyserial (byte-exact checks) and the unmodified PyPI SDK.

`make_emulator` (tests/conftest.py) starts emulators with their link under tmp_path and UART
timing off. Silence is asserted by waiting until the emulator has finished handling the packet
(a condition it notifies), then confirming no byte arrives in a short read.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator

import pytest
import scservo_sdk as scs
import serial

from so101_hardware.emulator import BusEmulator, EmulatedServo, GoalRecord, MotorModel
from so101_hardware.emulator.joint import FollowerJoint, Joint

REPLY_TIMEOUT_S = 2.0
SILENCE_WINDOW_S = 0.05  # after the emulator reports a packet handled, any reply is already in the pty


class RawClient:
    """pyserial on the emulator's port: send request bytes, read reply bytes."""

    def __init__(self, emulator: BusEmulator, baudrate: int = 1_000_000):
        self.emulator = emulator
        self.serial = serial.Serial(emulator.port, baudrate, timeout=REPLY_TIMEOUT_S)

    def transact(self, request: bytes, reply_bytes: int) -> bytes:
        self.serial.reset_input_buffer()
        self.serial.write(request)
        return self.serial.read(reply_bytes)

    def silence_after(self, request: bytes) -> bytes:
        """Send, wait until the emulator has handled it, return what arrived (b"" expected)."""
        handled = self.emulator.stats.packets_handled
        self.serial.reset_input_buffer()
        self.serial.write(request)
        assert self.emulator.wait_until(lambda: self.emulator.stats.packets_handled > handled, REPLY_TIMEOUT_S)
        self.serial.timeout = SILENCE_WINDOW_S
        try:
            return self.serial.read(256)
        finally:
            self.serial.timeout = REPLY_TIMEOUT_S

    def close(self) -> None:
        self.serial.close()


@pytest.fixture
def raw_client() -> Iterator[Callable[..., RawClient]]:
    """Factory: raw_client(emulator, baudrate=1_000_000) → RawClient, closed after the test."""
    clients: list[RawClient] = []

    def make(emulator: BusEmulator, baudrate: int = 1_000_000) -> RawClient:
        client = RawClient(emulator, baudrate)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# The SDK waits LATENCY_TIMER × 2 + 2 ms for a reply (34 ms by default, docs/reference/feetech-sts.md §9). Under a
# loaded CI box (xdist workers busy-spinning in the SDK's receive loop on 2 cores) scheduling
# alone can exceed that, so SDK tests widen the window through that module constant — the SDK
# code itself is untouched. Reply latency is the benchmarks' business, not these tests'.
SDK_LATENCY_TIMER_MS = 100
SDK_REPLY_WINDOW_S = (SDK_LATENCY_TIMER_MS * 2 + 2) / 1000


class SdkClient:
    """The PyPI feetech-servo-sdk as LeRobot uses it (protocol 0, 1 Mbps), with a wider reply window."""

    reply_window_s = SDK_REPLY_WINDOW_S

    def __init__(self, port: str):
        self.port = scs.PortHandler(port)
        assert self.port.openPort()
        self.packet = scs.PacketHandler(0)

    def close(self) -> None:
        if self.port.is_open:
            self.port.closePort()


@pytest.fixture
def sdk_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], SdkClient]]:
    monkeypatch.setattr(scs.port_handler, "LATENCY_TIMER", SDK_LATENCY_TIMER_MS)
    clients: list[SdkClient] = []

    def make(port: str) -> SdkClient:
        client = SdkClient(port)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class FakeClock:
    """Monotonic time a test advances by hand, for exact physics checks."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class BenchServo:
    """One EmulatedServo on the bench: fake clock, its own goal log, no bus."""

    def __init__(
        self, ticks: int = 2048, joint: Callable[[float], Joint] | None = None, model: MotorModel | None = None
    ):
        """`joint(now)` builds the servo's joint; default a follower joint at `ticks`."""
        self.clock = FakeClock()
        self.goals: list[GoalRecord] = []
        self.error_bits = 0
        self.stall: int | None = None
        self.servo = EmulatedServo(
            1,
            1_000_000,
            (joint or (lambda now: FollowerJoint(ticks, now)))(self.clock()),
            model or MotorModel(),
            clock=self.clock,
            lock=threading.RLock(),
            noise=random.Random(0),
            record_goal=self.goals.append,
            injected_errors=lambda: self.error_bits,
            injected_stall=lambda: self.stall,
        )


@pytest.fixture
def bench_servo() -> Callable[..., BenchServo]:
    return BenchServo
