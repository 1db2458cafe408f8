"""What every so101 tool shares: its parser, its error handling and its operator prompt.

The tools are run by people standing at a robot. A Python traceback tells them nothing, while
the typed bus errors (so101_hardware.errors) and ToolError already say what is wrong and what
to do, so `run` prints just that message. The traceback stays available for bug reports
through `--debug` or SO101_DEBUG=1.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from so101_hardware.errors import BusError

DEBUG_ENV = "SO101_DEBUG"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what shells report for Ctrl-C

Prompt = Callable[[str], None]
"""Shows an instruction and returns once the operator has carried it out (pressed Enter)."""


class ToolError(Exception):
    """An operator-facing failure that is not a bus error; the message says what to do."""


def make_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the tool's fixed name (not argv[0]) and the shared --debug flag."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help=f"show the traceback of an error (or set {DEBUG_ENV}=1)")
    return parser


def run(parser: argparse.ArgumentParser, body: Callable[[argparse.Namespace], int], argv: Sequence[str] | None) -> int:
    """Parse argv, run body, and turn expected failures into one message on stderr and an exit code.

    BusError and ToolError → 1, Ctrl-C → 130. Anything else is a bug and keeps its traceback.
    """
    args = parser.parse_args(argv)
    try:
        return body(args)
    except KeyboardInterrupt:
        print(f"\n{parser.prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (BusError, ToolError) as exc:
        if args.debug or os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def press_enter(message: str) -> None:
    """The interactive tools' default Prompt: show the instruction, wait for Enter."""
    try:
        input(f"{message} ")
    except EOFError:
        print()  # end the prompt's line before the error message
        raise ToolError("standard input is closed, so nobody can press Enter: run this tool in a terminal") from None


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold back Ctrl-C until the block has finished, then raise KeyboardInterrupt.

    For short multi-step changes (a motor's id, then its baud rate) that must not be left half
    done. Only the main thread receives signals, so elsewhere the block simply runs.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
