"""The wizard's operator I/O: messages, Enter prompts, and a live table redrawn in place.

Behind a small Console protocol so the procedure does not care whether it talks to a terminal;
TerminalConsole is the real one (plain text plus two ANSI sequences any terminal understands).
"""
from __future__ import annotations

import select
import sys
from collections.abc import Sequence
from typing import Protocol, TextIO

from so101_calibration.errors import CalibrationError

_CURSOR_UP_LINES = "\x1b[{}F"  # to the start of the line n lines up
_CLEAR_TO_END_OF_LINE = "\x1b[K"


class Console(Protocol):
    def say(self, text: str) -> None:
        """Show a message (below any live table, which then stays as it was)."""

    def ask(self, prompt: str) -> str:
        """Show `prompt` and return the line the operator types (without the newline)."""

    def show_live(self, lines: Sequence[str]) -> None:
        """Show `lines`, replacing what the previous show_live call drew."""

    def enter_pressed(self, timeout_s: float) -> bool:
        """Whether the operator pressed Enter, waiting at most timeout_s (the live table's refresh)."""


class TerminalConsole:
    """A Console on a terminal's stdin/stdout (line-buffered: Enter ends a line)."""

    def __init__(self, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout):
        self._in = stdin
        self._out = stdout
        self._live_lines = 0

    def say(self, text: str) -> None:
        self._live_lines = 0
        self._out.write(f"{text}\n")
        self._out.flush()

    def ask(self, prompt: str) -> str:
        self._live_lines = 0
        self._out.write(prompt)
        self._out.flush()
        return self._read_line()

    def show_live(self, lines: Sequence[str]) -> None:
        if self._live_lines:
            self._out.write(_CURSOR_UP_LINES.format(self._live_lines))
        self._out.write("".join(f"{line}{_CLEAR_TO_END_OF_LINE}\n" for line in lines))
        self._out.flush()
        self._live_lines = len(lines)

    def enter_pressed(self, timeout_s: float) -> bool:
        readable, _, _ = select.select([self._in], [], [], timeout_s)
        if not readable:
            return False
        self._read_line()
        return True

    def _read_line(self) -> str:
        line = self._in.readline()
        if not line:
            raise CalibrationError(
                "standard input is closed, so nobody can press Enter: run so101-calibrate in a terminal"
            )
        return line.rstrip("\n")
