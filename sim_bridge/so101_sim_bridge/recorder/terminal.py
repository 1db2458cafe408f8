"""Single-key control and a live status line in the operator's terminal (B, N, R, as LeIsaac does).

The operator's hands are on the leader arm; one key press is all they can spare, so keys act
at once, without Enter: the terminal is switched to cbreak mode (character at a time, no echo)
while the control runs, and restored when it stops. cbreak rather than full raw mode keeps
Ctrl-C working, so the node still stops the usual way. Without a terminal on stdin (ros2 launch,
a pipe, a test runner), the control stays off and says so; the /recorder services still work.

The status line is redrawn in place (carriage return, erase to end of line); a key's answer is
printed above it as a line of its own, so the history of what happened stays on screen.
"""
from __future__ import annotations

import os
import select
import sys
import termios
import threading
import tty
from collections.abc import Callable, Mapping
from typing import TextIO

ERASE_LINE = "\r\x1b[K"
POLL_S = 0.1
"""How often the key reader checks for stop while no key is pressed."""


def stdin_fd() -> int | None:
    """The file descriptor of stdin, or None when stdin is not a real file (closed, a test runner's stub)."""
    try:
        return sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return None


class TerminalControl:
    """Calls keys[k]() on key k (case-insensitive) and prints the message it returns."""

    def __init__(self, keys: Mapping[str, Callable[[], str]], input_fd: int | None, output: TextIO):
        self._keys = {key.lower(): action for key, action in keys.items()}
        self._fd = input_fd
        self._output = output
        self._lock = threading.Lock()
        self._saved: list | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = ""

    @property
    def enabled(self) -> bool:
        return self._thread is not None

    def start(self) -> bool:
        """Take over the terminal if input_fd is one; False (and nothing changed) otherwise."""
        if self._fd is None or not os.isatty(self._fd):
            return False
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        self._thread = threading.Thread(target=self._read_keys, name="recorder-keys", daemon=True)
        self._thread.start()
        return True

    def show(self, status: str) -> None:
        """Redraw the status line."""
        with self._lock:
            self._status = status
            self._write(ERASE_LINE + status)

    def stop(self) -> None:
        """Stop reading keys, end the status line, give the terminal back as it was."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        with self._lock:
            self._write("\n")

    def _read_keys(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._fd], [], [], POLL_S)
            if not readable:
                continue
            data = os.read(self._fd, 64)
            if not data:
                return  # the terminal went away
            for key in data.decode(errors="ignore").lower():
                action = self._keys.get(key)
                if action is not None:
                    try:
                        message = action()
                    except Exception as exc:  # noqa: BLE001 - a failed action must not end the key reader
                        message = f"{key.upper()}: {type(exc).__name__}: {exc}"
                    self._say(message)

    def _say(self, message: str) -> None:
        with self._lock:
            self._write(f"{ERASE_LINE}{message}\n{self._status}")

    def _write(self, text: str) -> None:
        self._output.write(text)
        self._output.flush()
