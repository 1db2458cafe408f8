"""Run the bus emulator CLI in its own process for benchmarks.

A separate process keeps the emulator's CPU time out of the measured process's CPU time, and
its serving thread off the measured interpreter's GIL, as a real bus would be.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def emulator_process(*extra_args: str, startup_timeout_s: float = 20.0) -> Iterator[str]:
    """Start `so101-bus-emulator`, yield the port path once it exists, stop it with SIGINT."""
    with tempfile.TemporaryDirectory(prefix="so101-bench-") as tmp:
        link = Path(tmp) / "bus"
        proc = subprocess.Popen(
            [sys.executable, "-m", "so101_hardware.emulator.cli", "--link", str(link), *extra_args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + startup_timeout_s
            while not link.exists():  # another process: nothing to wait on but the file itself
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"bus emulator did not start: {proc.stderr.read() if proc.stderr else ''}")
                time.sleep(0.02)
            yield os.fspath(link)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
