"""Single-key control and a live status line in the operator's terminal (the recorder's B, N, R; the mux's T).

The operator's hands are on the leader arm; one key press is all they can spare, so keys act
at once, without Enter: the terminal is switched to cbreak mode (character at a time, no echo)
while the control runs, and restored when it stops. cbreak rather than full raw mode keeps
Ctrl-C working, so the node still stops the usual way. Without a terminal on stdin (ros2 launch,
a pipe, a test runner), the control stays off and says so; the nodes' services still work.

Several nodes in one process (`so101 run` runs them in-process) share the terminal: one reader
hands each key to the control that binds it (two controls binding one key is an error), and the
status line shows every control's status side by side. The line is redrawn in place (carriage
return, erase to end of line); a key's answer is printed above it as a line of its own, so the
history of what happened stays on screen.
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
STATUS_SEPARATOR = "  │  "


def stdin_fd() -> int | None:
    """The file descriptor of stdin, or None when stdin is not a real file (closed, a test runner's stub)."""
    try:
        return sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return None


class TerminalControl:
    """Calls keys[k]() on key k (case-insensitive) and prints the message it returns."""

    def __init__(self, keys: Mapping[str, Callable[[], str]], input_fd: int | None, output: TextIO):
        self.keys = {key.lower(): action for key, action in keys.items()}
        self._fd = input_fd
        self._output = output
        self._console: _Console | None = None
        self.status = ""

    @property
    def enabled(self) -> bool:
        return self._console is not None

    def start(self) -> bool:
        """Take over the terminal (or join the control already holding it) if input_fd is one; False (and nothing
        changed) otherwise. ValueError if another control in this process binds one of the same keys."""
        if self._fd is None or not os.isatty(self._fd):
            return False
        self._console = _Console.join(self._fd, self._output, self)
        return True

    def show(self, status: str) -> None:
        """Redraw the status line with this control's status."""
        self.status = status
        if self._console is not None:
            self._console.redraw()

    def stop(self) -> None:
        """Stop reading keys for this control; the last one out ends the status line and restores the terminal."""
        if self._console is not None:
            self._console.leave(self)
            self._console = None


class _Console:
    """One terminal's key reader and status line, shared by the controls of this process."""

    _open: dict[int, _Console] = {}
    _registry_lock = threading.Lock()

    def __init__(self, fd: int, output: TextIO):
        self._fd = fd
        self._output = output
        self._lock = threading.Lock()
        self._controls: list[TerminalControl] = []
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read_keys, name="terminal-keys", daemon=True)
        self._thread.start()

    @classmethod
    def join(cls, fd: int, output: TextIO, control: TerminalControl) -> _Console:
        with cls._registry_lock:
            console = cls._open.get(fd) or cls._open.setdefault(fd, cls(fd, output))
            with console._lock:
                taken = {key for other in console._controls for key in other.keys} & set(control.keys)
                if taken:
                    if not console._controls:
                        console._close()
                    raise ValueError(f"key(s) {', '.join(sorted(taken))} already bound in this terminal")
                console._controls.append(control)
            return console

    def leave(self, control: TerminalControl) -> None:
        with self._registry_lock:
            with self._lock:
                self._controls.remove(control)
                last = not self._controls
            if last:
                self._close()
            else:
                self.redraw()

    def redraw(self) -> None:
        with self._lock:
            self._write(ERASE_LINE + self._line())

    def _close(self) -> None:
        self._stop.set()
        self._thread.join()
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        self._write("\n")
        type(self)._open.pop(self._fd, None)

    def _line(self) -> str:
        return STATUS_SEPARATOR.join(control.status for control in self._controls if control.status)

    def _read_keys(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._fd], [], [], POLL_S)
            if not readable:
                continue
            data = os.read(self._fd, 64)
            if not data:
                return  # the terminal went away
            for key in data.decode(errors="ignore").lower():
                with self._lock:
                    action = next((c.keys[key] for c in self._controls if key in c.keys), None)
                if action is not None:
                    try:
                        message = action()
                    except Exception as exc:  # noqa: BLE001 - a failed action must not end the key reader
                        message = f"{key.upper()}: {type(exc).__name__}: {exc}"
                    self._say(message)

    def _say(self, message: str) -> None:
        with self._lock:
            self._write(f"{ERASE_LINE}{message}\n{self._line()}")

    def _write(self, text: str) -> None:
        self._output.write(text)
        self._output.flush()
