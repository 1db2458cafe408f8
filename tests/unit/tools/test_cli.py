"""The shared tool runner: one-line errors, exit codes, no traceback unless asked for."""
from __future__ import annotations

import argparse
import signal

import pytest

from so101_hardware.errors import NoStatusPacketError, PortError
from so101_hardware.tools import cli


def _run(body, argv=()) -> int:
    return cli.run(cli.make_parser("so101-test", "test tool"), body, list(argv))


def _raise(exc: BaseException):
    def body(_args: argparse.Namespace) -> int:
        raise exc

    return body


def test_bus_error_is_one_line_on_stderr_with_exit_code_1(capsys):
    assert _run(_raise(PortError("/dev/ttyACM9 does not exist"))) == cli.EXIT_ERROR
    captured = capsys.readouterr()
    assert captured.err == "so101-test: error: /dev/ttyACM9 does not exist\n"
    assert captured.out == ""


def test_motor_error_message_is_passed_through(capsys):
    assert _run(_raise(NoStatusPacketError(3, "Present_Position", 3, 0.05, "elbow_flex"))) == 1
    err = capsys.readouterr().err
    assert "motor 3 (elbow_flex), register Present_Position: no status packet" in err
    assert "Traceback" not in err


def test_tool_error_exits_1(capsys):
    assert _run(_raise(cli.ToolError("no port disappeared"))) == 1
    assert capsys.readouterr().err == "so101-test: error: no port disappeared\n"


def test_ctrl_c_exits_130_without_traceback(capsys):
    assert _run(_raise(KeyboardInterrupt())) == cli.EXIT_INTERRUPTED == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


def test_debug_flag_shows_the_traceback(capsys):
    assert _run(_raise(PortError("gone")), ["--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith("so101-test: error: gone\n")


def test_debug_environment_variable_shows_the_traceback(capsys, monkeypatch):
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    assert _run(_raise(PortError("gone"))) == 1
    assert "Traceback" in capsys.readouterr().err


def test_a_bug_keeps_its_traceback():
    with pytest.raises(ZeroDivisionError):
        _run(_raise(ZeroDivisionError()))


def test_body_return_value_is_the_exit_code():
    assert _run(lambda _args: 0) == 0


def test_press_enter_with_closed_stdin_says_to_use_a_terminal(monkeypatch):
    def closed(_prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", closed)
    with pytest.raises(cli.ToolError, match="run this tool in a terminal"):
        cli.press_enter("Press Enter")


def test_interrupts_deferred_holds_ctrl_c_until_the_block_is_done():
    steps = []
    with pytest.raises(KeyboardInterrupt), cli.interrupts_deferred():
        signal.raise_signal(signal.SIGINT)
        steps.append("finished the block")
    assert steps == ["finished the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupts_deferred_without_ctrl_c_is_transparent():
    with cli.interrupts_deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
