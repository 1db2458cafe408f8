"""The README's main-job command, shortened: emulated arms scanned, configured and mirrored safely."""
import json

import pytest

from so101_bringup.cli import main
from so101_bringup.demo import DemoConfig, run_demo


@pytest.mark.slow
@pytest.mark.serial
@pytest.mark.timeout(120)
def test_demo_mirrors_the_leader_within_limits(tmp_path):
    lines: list[str] = []
    summary = run_demo(DemoConfig(duration_s=2.5, rate_hz=50, out_dir=tmp_path, settle_s=1.5), say=lines.append)

    assert summary.ticks > 50
    assert summary.goals_recorded_by_emulator >= 6 * summary.ticks
    assert summary.goals_outside_limits == 0
    # The follower starts parked away from the leader: the step limit ramps it over...
    assert summary.safety_counters["clamped_step"] > 0
    # ...after which it tracks the moving leader closely (emulated servo dynamics + one tick of lag).
    assert max(summary.tracking_error_deg_mean.values()) < 5.0
    assert json.loads((tmp_path / "summary.json").read_text())["ticks"] == summary.ticks
    assert any("STS3215" in line for line in lines), "both buses are scanned and shown"
    for bus in ("leader", "follower"):  # a loaded machine may miss a reply window now and then
        assert summary.bus_errors[bus]["timeouts"] <= 0.01 * summary.bus_errors[bus]["transactions"]


def test_demo_cli_rejects_bad_arguments(capsys):
    assert main(["demo", "--duration", "0", "--out", "unused"]) == 1
    assert "duration_s and rate_hz must be positive" in capsys.readouterr().err
