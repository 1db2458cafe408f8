"""so101-find-port: the port that vanishes when the operator unplugs the arm."""
from __future__ import annotations

import pytest

from so101_hardware.tools import cli, find_port
from so101_hardware.tools.find_port import FoundPort


def _lister(tmp_path):
    return lambda: find_port.list_candidate_ports([str(tmp_path / "so101_*")])


@pytest.mark.timeout(30)
def test_the_unplugged_emulator_link_is_the_arm(start_emulator, tmp_path):
    leader = start_emulator(name="so101_leader_usb")
    follower = start_emulator(name="so101_follower_usb")
    prompts = []

    def operator_unplugs_the_follower(message: str) -> None:
        prompts.append(message)
        follower.unplug_bus()

    found = find_port.find_port(_lister(tmp_path), operator_unplugs_the_follower)
    assert found == FoundPort(follower.port)
    assert len(prompts) == 1 and "Unplug the USB cable" in prompts[0]
    assert leader.port in find_port.list_candidate_ports([str(tmp_path / "so101_*")])


@pytest.mark.timeout(30)
def test_nothing_unplugged_is_a_clear_error(start_emulator, tmp_path):
    emulator = start_emulator()
    with pytest.raises(cli.ToolError, match="no port disappeared") as error:
        find_port.find_port(_lister(tmp_path), lambda _message: None, settle_s=0)
    assert emulator.port in str(error.value)


@pytest.mark.timeout(30)
def test_two_ports_vanishing_is_a_clear_error(start_emulator, tmp_path):
    first, second = start_emulator(name="so101_a"), start_emulator(name="so101_b")

    def unplug_both(_message: str) -> None:
        first.unplug_bus()
        second.unplug_bus()

    with pytest.raises(cli.ToolError, match="several ports disappeared"):
        find_port.find_port(_lister(tmp_path), unplug_both)


def test_no_ports_at_all_says_to_plug_the_arm_in():
    asked = []
    with pytest.raises(cli.ToolError, match="no serial ports found"):
        find_port.find_port(dict, asked.append)
    assert asked == []  # the operator is not asked to unplug anything


def test_a_port_and_its_by_id_link_vanishing_together_are_one_arm():
    listings = iter(
        [
            {
                "/dev/ttyACM0": "/dev/ttyACM0",
                "/dev/ttyACM1": "/dev/ttyACM1",
                "/dev/serial/by-id/usb-1a86_USB_Single_Serial_5A7A-if00": "/dev/ttyACM0",
            },
            {"/dev/ttyACM1": "/dev/ttyACM1"},
        ]
    )
    found = find_port.find_port(lambda: next(listings), lambda _message: None)
    assert found == FoundPort("/dev/ttyACM0", ("/dev/serial/by-id/usb-1a86_USB_Single_Serial_5A7A-if00",))


def test_a_slow_disappearance_is_still_seen():
    """The kernel removes the node a moment after the cable is out; the tool looks again."""
    listings = iter([{"/dev/ttyUSB0": "/dev/ttyUSB0"}, {"/dev/ttyUSB0": "/dev/ttyUSB0"}, {}])
    assert find_port.find_port(lambda: next(listings), lambda _message: None).port == "/dev/ttyUSB0"


@pytest.mark.timeout(30)
def test_main_with_glob_reports_the_port(start_emulator, tmp_path, monkeypatch, capsys):
    emulator = start_emulator()
    link = emulator.port
    monkeypatch.setattr("builtins.input", lambda _prompt: emulator.unplug_bus())
    assert find_port.main(["--glob", str(tmp_path / "so101_*")]) == 0
    out = capsys.readouterr().out
    assert f"The arm's port is {link}." in out and "so101-udev-rules" in out


def test_main_ctrl_c_at_the_prompt_exits_130(monkeypatch, tmp_path, capsys):
    (tmp_path / "ttyFAKE0").touch()

    def ctrl_c(_prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", ctrl_c)
    assert find_port.main(["--glob", str(tmp_path / "ttyFAKE*")]) == 130
    assert "interrupted" in capsys.readouterr().err
