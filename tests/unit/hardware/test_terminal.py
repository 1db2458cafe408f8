"""Single-key control on a real pseudo-terminal: keys act without Enter, the terminal is given back as it was."""
from __future__ import annotations

import os
import select
import termios
import time

import pytest

from so101_hardware.terminal import TerminalControl

TIMEOUT_S = 10.0


@pytest.fixture
def pty():
    """(operator side, program side) of a fresh pseudo-terminal, the program side as a text stream too."""
    operator, program = os.openpty()
    output = os.fdopen(os.dup(program), "w")
    yield operator, program, output
    output.close()
    os.close(operator)
    os.close(program)


def read_until(fd: int, text: str) -> str:
    """What the operator's screen receives, until `text` shows up."""
    seen = ""
    deadline = time.monotonic() + TIMEOUT_S
    while text not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{text!r} never appeared; got {seen!r}"
        if select.select([fd], [], [], remaining)[0]:
            seen += os.read(fd, 4096).decode()
    return seen


def test_keys_act_at_once_and_answers_print_above_the_status_line(pty):
    operator, program, output = pty
    pressed = []
    keys = {"b": lambda: pressed.append("b") or "recording episode 1", "n": lambda: pressed.append("n") or "saved"}
    control = TerminalControl(keys, program, output)
    assert control.start() and control.enabled
    control.show("idle  [B record]")
    read_until(operator, "idle  [B record]")
    os.write(operator, b"B")  # no Enter: cbreak mode delivers the key at once; upper case works too
    screen = read_until(operator, "recording episode 1")
    assert screen.endswith("recording episode 1\r\nidle  [B record]")  # the answer, then the status line again
    os.write(operator, b"xn")  # unbound keys are ignored
    read_until(operator, "saved")
    assert pressed == ["b", "n"]
    control.stop()
    assert not control.enabled


def test_the_terminal_is_restored_and_echoes_again_after_stop(pty):
    operator, program, output = pty
    before = termios.tcgetattr(program)
    control = TerminalControl({}, program, output)
    control.start()
    during = termios.tcgetattr(program)
    assert not during[3] & termios.ECHO and not during[3] & termios.ICANON
    assert during[3] & termios.ISIG, "Ctrl-C still interrupts"
    control.stop()
    assert termios.tcgetattr(program) == before


def test_a_failing_action_is_reported_and_keys_keep_working(pty):
    operator, program, output = pty

    def broken() -> str:
        raise RuntimeError("writer gone")

    control = TerminalControl({"r": broken, "b": lambda: "started"}, program, output)
    control.start()
    os.write(operator, b"r")
    read_until(operator, "R: RuntimeError: writer gone")
    os.write(operator, b"b")
    read_until(operator, "started")
    control.stop()


def test_without_a_terminal_the_control_stays_off(tmp_path):
    read_end, write_end = os.pipe()
    try:
        with open(tmp_path / "out.txt", "w") as output:
            assert not TerminalControl({"b": lambda: ""}, read_end, output).start()
            assert not TerminalControl({"b": lambda: ""}, None, output).start()
    finally:
        os.close(read_end)
        os.close(write_end)


def test_two_controls_of_one_process_share_the_terminal_and_its_status_line(pty):
    """The recorder's keys and the command mux's in one `so101 run`: each key reaches the control that binds it."""
    operator, program, output = pty
    before = termios.tcgetattr(program)
    recorder = TerminalControl({"b": lambda: "recording episode 1"}, program, output)
    mux = TerminalControl({"t": lambda: "the operator drives"}, program, output)
    assert recorder.start() and mux.start()
    with pytest.raises(ValueError, match="key.* b already bound"):
        TerminalControl({"b": lambda: ""}, program, output).start()
    recorder.show("idle  [B record]")
    mux.show("policy drives  [T take over]")
    read_until(operator, "idle  [B record]  │  policy drives  [T take over]")
    os.write(operator, b"tb")
    screen = read_until(operator, "recording episode 1")
    assert "the operator drives" in screen
    recorder.stop()
    assert termios.tcgetattr(program) != before, "the mux still holds the terminal"
    mux.stop()
    assert termios.tcgetattr(program) == before
