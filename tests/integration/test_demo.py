"""The README's main-job command, run for real: emulated arms, ROS graphs, MuJoCo twin, recorder,
replay policy, report. And the same demo on "real" ports (emulator links the demo did not start,
no scripted operator), which is the README's real-robot path."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from so101_bringup.cli import main
from so101_bringup.demo import DemoConfig, run_demo
from so101_bringup.share import config_path
from so101_calibration import MOTOR_IDS
from so101_hardware.emulator import BusEmulator, EmulatorConfig
from so101_sim_bridge.datasets import validate
from so101_sim_bridge.recorder import read_hdf5_demos
from tests_support.ros import domain_for_this_process

pytestmark = [pytest.mark.slow, pytest.mark.serial]


@pytest.mark.timeout(420)
def test_the_demo_records_seed_demos_replays_one_and_reports(tmp_path):
    lines: list[str] = []
    summary = run_demo(DemoConfig(out_dir=tmp_path, episodes=2, generated_demos=2, domain_id=domain_for_this_process()),
                       lines.append)

    run_dir = (tmp_path / "latest").resolve()
    assert summary.demos_saved == {"hdf5_demos": 2, "lerobot_episodes": 2}
    with h5py.File(run_dir / "demos" / "so101_demos.hdf5") as demos:
        assert all(len(demos[f"data/demo_{i}/actions"]) >= 450 for i in range(2)), "~10 s at 60 Hz (leisaac profile)"
    # Each file passes the check for the tool that reads it: Isaac Lab, LeIsaac + Mimic, LeRobot, GR00T.
    assert {target: verdict["ok"] for target, verdict in summary.validation.items()} == {
        "isaaclab": True, "leisaac-mimic": True, "lerobot": True, "gr00t": True}, summary.validation
    assert (run_dir / "demos" / "so101_gr00t" / "meta" / "modality.json").exists()
    # The final dataset (the GR00T export of the generated demos): its provenance verified back
    # through the generation to the recorded seed demos, and printed.
    assert summary.provenance["ok"], summary.provenance["problems"]
    chain = summary.provenance["chain"]
    assert (chain["name"], chain["manifest"]["tool"]) == ("generated_gr00t", "so101-dataset to-gr00t")
    (lerobot,) = chain["sources"]
    (generated,) = lerobot["sources"]
    assert (generated["name"], generated["status"], generated["manifest"]["tool"]) == (
        "generated.hdf5", "verified", "so101-mimicgen")
    (seeds,) = generated["sources"]
    assert (seeds["name"], seeds["status"], seeds["manifest"]["kind"]) == ("so101_demos.hdf5", "verified", "recording")
    assert seeds["manifest"]["simulator"]["name"] == "mujoco twin" and seeds["manifest"]["task"]["id"]
    assert any(line.lstrip().startswith("└── so101_demos.hdf5 [isaaclab-hdf5] recording") for line in lines)
    assert (run_dir / "demos" / "so101_gr00t" / "README.md").exists()
    assert validate(run_dir / "mimicgen" / "generated_gr00t", "gr00t").ok
    # The augmentation phase: MimicGen on the twin made 2 demos from the seeds, with its report.
    assert summary.augmentation["kept"] == 2 and summary.augmentation["seed_demos"] == 2, summary.augmentation
    assert len(read_hdf5_demos(run_dir / "mimicgen" / "generated.hdf5").demos) == 2
    assert (run_dir / "mimicgen" / "report.png").exists() and (run_dir / "mimicgen" / "generated_lerobot").is_dir()
    # The twin's goals are reported (met or not: the figures depend on the machine's load; the
    # servo model's own tracking is checked without timing in tests/unit/demo/test_operator.py).
    assert set(summary.twin_goals) == {"twin_vs_follower_p99_rad", "follower_to_twin_echo_p50_ms"}
    assert summary.goals_checked > 5_000 and summary.goals_outside_limits == 0, "the emulator's own record"
    # Teleop: the follower follows the scripted operator (lag and clamps included).
    assert summary.tracking_rad["follower_vs_leader (teleop)"]["worst_p99"] < 0.25
    assert summary.tracking_rad["twin_vs_follower"]["samples"] > 1_000
    # Deploy: chunks of the replayed demo arrive and the follower carries out the commands.
    assert summary.chunks_received >= 3 and summary.policy_counters["chunks_accepted"] >= 3
    assert summary.real_time_chunking["rtc"] == "honoured", "deployed with RTC: the replay backend honours it"
    assert summary.policy_counters["rtc_chunks"] >= 2
    deploy = summary.tracking_rad["follower_vs_policy_command (deploy)"]
    assert deploy["worst_mean"] < 0.05 and deploy["worst_p99"] < 0.35, "the servos' lag behind 1.9 rad/s moves"
    assert summary.rates_hz["policy_commands"] == pytest.approx(30, rel=0.2)
    for name in ("leader_read_to_teleop_command", "follower_to_twin_echo", "observation_to_policy_chunk"):
        assert summary.latency_ms[name]["count"] > 0, name
    assert json.loads((run_dir / "summary.json").read_text())["demos_saved"] == summary.demos_saved
    for plot in ("trajectories.png", "deploy_chunks.png", "latency.png"):
        assert (run_dir / plot).stat().st_size > 20_000, plot
    trace = np.load(run_dir / "trace.npz")
    assert trace["chunk_lengths"].size == summary.chunks_received
    assert any(line.lstrip().startswith("[demo 1/2") for line in lines), "progress while it runs"
    assert any(line == "summary" for line in lines)


@pytest.mark.timeout(300)
def test_the_demo_on_given_ports_lets_the_operator_move_the_leader(tmp_path):
    """Ports the demo did not start are real arms to it: no scripted operator, fixed-length demos.
    The "operator" holds the leader still, so the demo starts where the follower rests and replays."""
    calibration = {role: config_path("calibration") / f"emulated_{role}.json" for role in ("leader", "follower")}
    buses = [
        BusEmulator(EmulatorConfig(role=role, link=str(tmp_path / role), calibration=str(calibration[role]))).start()
        for role in ("leader", "follower")
    ]
    buses[0].set_leader_positions({motor_id: 2048 for motor_id in MOTOR_IDS})  # the operator holds the leader still
    try:
        summary = run_demo(DemoConfig(
            out_dir=tmp_path / "out", episodes=1, episode_s=3.0, deploy_s=3.0,
            leader_port=str(tmp_path / "leader"), follower_port=str(tmp_path / "follower"),
            leader_calibration=str(calibration["leader"]), follower_calibration=str(calibration["follower"]),
            allow_motion=True, domain_id=domain_for_this_process(),
        ), say=lambda line: None)
    finally:
        for bus in buses:
            bus.stop()
    assert not summary.emulated and summary.goals_checked == 0, "the demo did not start these buses"
    assert summary.demos_saved == {"hdf5_demos": 1, "lerobot_episodes": 1}
    assert "rise" in summary.augmentation["skipped"], "a still leader grasps nothing: no seed to generate from"
    assert summary.chunks_received >= 1
    assert max(max(counts.values(), default=0) for counts in summary.safety_counters.values()) < 1_000


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--leader-port", "/dev/null"], "give both --leader-port and --follower-port"),
        (["--leader-port", "/dev/a", "--follower-port", "/dev/b"], "pass --allow-motion"),
        (["--episodes", "0"], "episodes must be at least 1"),
        (["--generated-demos", "-1"], "generated_demos must be 0"),
    ],
)
def test_the_demo_refuses_bad_arguments_before_touching_anything(tmp_path, capsys, arguments, message):
    assert main(["demo", "--out", str(tmp_path / "out"), *arguments]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
