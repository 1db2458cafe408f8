"""Processes for benchmarks: the bus emulator CLI in its own process, stopping processes, local discovery.

A separate process keeps the emulator's CPU time out of the measured process's CPU time, and
its serving thread off the measured interpreter's GIL, as a real bus would be.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

LOCAL_DISCOVERY = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_LOCALHOST_ONLY": "1"}
"""The environment that keeps a benchmark's ROS discovery on this machine (node processes get it too):
Iron and later read ROS_AUTOMATIC_DISCOVERY_RANGE, Humble only ROS_LOCALHOST_ONLY (Jazzy still
honours it, deprecated; Kilted ignores it)."""


def stop_processes(processes: Iterable[subprocess.Popen], timeout_s: float = 20.0) -> None:
    """SIGINT each (what `ros2 launch` sends: nodes shut down cleanly), then kill what lingers."""
    processes = list(processes)
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def emulator_process(*extra_args: str) -> Iterator[str]:
    """Start `so101-bus-emulator`, yield its port once it is serving, stop it with SIGINT."""
    with tempfile.TemporaryDirectory(prefix="so101-bench-") as tmp:
        link = Path(tmp) / "bus"
        proc = subprocess.Popen(
            [sys.executable, "-m", "so101_hardware.emulator.cli", "--link", str(link), *extra_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            banner = proc.stdout.readline() if proc.stdout else ""  # printed once the port is up
            if not banner:
                raise RuntimeError(f"bus emulator did not start: {proc.stderr.read() if proc.stderr else ''}")
            yield os.fspath(link)
        finally:
            stop_processes([proc], timeout_s=10)
