"""Fixtures shared by every suite: emulated buses on real ptys, each test in its own tmp_path."""
from __future__ import annotations

import pytest

from so101_hardware.emulator import BusEmulator, EmulatorConfig


@pytest.fixture
def make_emulator(tmp_path):
    """Factory: make_emulator(**EmulatorConfig fields) → a started BusEmulator, stopped after the test.

    UART timing is off by default here (tests assert behaviour, not speed); pass uart_timing=True
    where the timing model itself matters.
    """
    started: list[BusEmulator] = []

    def make(**overrides) -> BusEmulator:
        fields = {"link": str(tmp_path / f"so101_bus{len(started)}"), "uart_timing": False, **overrides}
        emulator = BusEmulator(EmulatorConfig(**fields))
        emulator.start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in reversed(started):
        emulator.stop()
