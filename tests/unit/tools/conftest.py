"""Fixtures for the operator-tool tests: emulated buses on real ptys, each under its own tmp_path."""
from __future__ import annotations

import os
from typing import Callable, Iterator

import pytest

from so101_hardware.emulator import BusEmulator, EmulatorConfig

StartEmulator = Callable[..., BusEmulator]


@pytest.fixture
def start_emulator(tmp_path) -> Iterator[StartEmulator]:
    """start_emulator(ids=(1,), baudrate=1_000_000, name="so101_bus") → a running emulator.

    Its port is a symlink in tmp_path (as udev's /dev/so101_follower would be); every emulator
    started here is stopped after the test.
    """
    started: list[BusEmulator] = []

    def start(ids: tuple[int, ...] = (1,), baudrate: int = 1_000_000, name: str = "so101_bus") -> BusEmulator:
        config = EmulatorConfig(ids=ids, baudrate=baudrate, uart_timing=False, link=str(tmp_path / name), seed=0)
        emulator = BusEmulator(config).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def silent_pty() -> Iterator[str]:
    """A serial port on which nothing answers: a pty whose other end nobody reads."""
    master, slave = os.openpty()
    try:
        yield os.ttyname(slave)
    finally:
        os.close(slave)
        os.close(master)
