"""so101-scan against emulated buses, plus its pure parts (id ranges, table, missing-joint note)."""
from __future__ import annotations

import argparse

import pytest

from so101_hardware.sts_protocol import ServoErrorBits
from so101_hardware.tools import scan
from so101_hardware.tools.scan import ServoInfo

ARM_IDS = (1, 2, 3, 4, 5, 6)


def _rows(out: str) -> list[list[str]]:
    """Table rows after the header, split on the column gaps."""
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["ID", "MODEL"]
    rows = []
    for line in lines[1:]:
        if not line.strip():
            break
        rows.append([cell for cell in line.split("  ") if cell.strip()])
    return rows


@pytest.mark.timeout(30)
def test_scan_finds_six_servos_with_model_voltage_and_temperature(start_emulator, capsys):
    emulator = start_emulator(ids=ARM_IDS)
    assert scan.main(["--port", emulator.port]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert [int(row[0]) for row in rows] == list(ARM_IDS)
    for row in rows:
        assert row[1].strip() == "STS3215"
        assert row[2].strip() == "3.10"
        assert row[3].strip() == "1000000"
        assert row[4].strip().endswith(" V") and 11.0 <= float(row[4].split()[0]) <= 13.0
        assert row[5].strip().endswith("°C")
        assert row[7].strip() == "off"
        assert row[8].strip() == "ok"
    assert "note:" not in out  # every SO-101 joint answered


@pytest.mark.timeout(30)
def test_scan_all_bauds_finds_a_servo_set_to_500000(start_emulator, capsys):
    emulator = start_emulator(ids=(3,), baudrate=500_000)
    assert scan.main(["--port", emulator.port, "--baud", "all"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert [(row[0].strip(), row[3].strip()) for row in rows] == [("3", "500000")]


@pytest.mark.timeout(30)
def test_scan_with_ids_pings_each_and_names_the_missing_joint(start_emulator, capsys):
    emulator = start_emulator(ids=(1, 2, 3, 5, 6))
    assert scan.main(["--port", emulator.port, "--ids", "1-6"]) == 0
    out = capsys.readouterr().out
    assert [int(row[0]) for row in _rows(out)] == [1, 2, 3, 5, 6]
    assert "4 (wrist_flex)" in out


@pytest.mark.timeout(30)
def test_scan_shows_servo_error_bits_instead_of_failing(start_emulator, capsys):
    emulator = start_emulator(ids=(1, 2))
    emulator.set_error_bits(2, int(ServoErrorBits.OVERLOAD | ServoErrorBits.VOLTAGE))
    assert scan.main(["--port", emulator.port]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows[0][-1].strip() == "ok"
    assert rows[1][-1].strip() == "voltage, overload"


@pytest.mark.timeout(30)
def test_nothing_answering_exits_1_with_what_to_check(silent_pty, capsys):
    assert scan.main(["--port", silent_pty]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert err.startswith(f"so101-scan: error: nothing answered on {silent_pty} at 1000000 baud")
    assert "power supply" in err and "so101-find-port" in err and "--baud all" in err
    assert "Traceback" not in err


@pytest.mark.timeout(30)
def test_nothing_answering_at_any_baud_does_not_suggest_baud_all_again(silent_pty, capsys):
    assert scan.main(["--port", silent_pty, "--baud", "all", "--ids", "1"]) == 1
    err = capsys.readouterr().err
    assert "at any baud rate (1000000, 500000," in err and "individual pings of 1 id(s)" in err
    assert "--baud all" not in err


def test_format_table_is_aligned_and_names_model_and_error_bits():
    servos = [
        ServoInfo(1, 1_000_000, 777, (3, 10), 121, 31, 2048, 1, ServoErrorBits(0)),
        ServoInfo(12, 500_000, 2825, (3, 9), 74, 45, -5, 0, ServoErrorBits.OVERHEAT),
    ]
    assert scan.format_table(servos) == (
        "ID  MODEL           FIRMWARE  BAUD     VOLTAGE  TEMP   POSITION  TORQUE  STATUS\n"
        "1   STS3215         3.10      1000000  12.1 V   31 °C  2048      on      ok\n"
        "12  unknown (2825)  3.9       500000   7.4 V    45 °C  -5        off     overheat"
    )


def test_missing_joints_note_is_none_for_a_complete_arm():
    servos = [ServoInfo(i, 1_000_000, 777, (3, 10), 120, 30, 2048, 0, ServoErrorBits(0)) for i in ARM_IDS]
    assert scan.missing_joints_note(servos) is None


@pytest.mark.parametrize(
    ("text", "ids"),
    [("1-10", list(range(1, 11))), ("1,3,5", [1, 3, 5]), ("1-3,6", [1, 2, 3, 6]), ("7", [7]), ("2,1-3", [2, 1, 3])],
)
def test_parse_ids(text, ids):
    assert scan.parse_ids(text) == ids


@pytest.mark.parametrize("text", ["", "a", "1-", "5-3", "1-300", "-1"])
def test_parse_ids_rejects_nonsense(text):
    with pytest.raises(argparse.ArgumentTypeError):
        scan.parse_ids(text)


def test_unknown_baud_rate_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        scan.main(["--port", "/dev/null", "--baud", "9600"])
    assert exit_info.value.code == 2
    assert "9600 is not an STS3215 baud rate" in capsys.readouterr().err
