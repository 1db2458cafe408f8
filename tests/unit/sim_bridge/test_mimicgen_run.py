"""so101-mimicgen end to end on the twin: output layout, replay of a generated demo, kill and resume, Ray, bad input.

The seed is real: the twin does the demo's pick-and-place (the scripted operator's moves) and the
recorder records it at 30 rows/s with the demo's task spec (datagen_info, subtask signals), with
a 64x48 wrist camera. Every run asks for the same demos (seed 5), so each must produce exactly
the demos of the in-process run: generation is deterministic per seed, whatever the executor,
the number of workers or a kill in between. The Ray test starts a local Ray head (loopback only)
once for this module.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from so101_sim_bridge.datasets import validate
from so101_sim_bridge.datasets.isaaclab_file import file_units
from so101_sim_bridge.geometry import relative_pose
from so101_sim_bridge.mimicgen import GenerationConfig, MimicGenError, generate, replay_actions
from so101_sim_bridge.mimicgen.sources import load_seeds
from so101_sim_bridge.provenance import GENERATION, verify_chain
from so101_sim_bridge.recorder import read_hdf5_demos
from so101_sim_bridge.recorder.isaaclab_layout import LayoutConfig
from so101_sim_bridge.tasks import DEMO_TASK, is_success, load_task, task_text
from so101_sim_bridge.twin import MujocoTwin, TwinConfig
from tests_support.net import free_ports, listening_addresses
from tests_support.repo import REPO

CALIBRATION = REPO / "launch" / "config" / "calibration" / "emulated_follower.json"
ROBOT = "articulation/robot"
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}
"""Ray on loopback only (its single-machine mode), without the token a default head asks for."""
WAIT_S = 240.0


def settings(seed_file: Path, out: Path, **overrides) -> GenerationConfig:
    return GenerationConfig(**{"seeds": (seed_file,), "out": out, "num_demos": 2, "seed": 5, "camera_fps": 10,
                               "calibration": CALIBRATION, "show_progress": False, **overrides})


def cli(*args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "so101_sim_bridge.mimicgen.cli", *args],
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


def cli_args(seed_file: Path, out: Path, *more: str) -> list[str]:
    return [str(seed_file), "--out", str(out), "--seed", "5", "--camera-fps", "10", "--calibration", str(CALIBRATION),
            *more]


def demo_actions(path: Path) -> list[np.ndarray]:
    return [demo.actions for demo in read_hdf5_demos(path).demos]


def trial_numbers(path: Path) -> list[int]:
    with h5py.File(path, "r") as file:
        return [json.loads(file[f"data/demo_{i}"].attrs["mimicgen_trial"])["trial"] for i in range(len(file["data"]))]


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory, twin_run) -> Path:
    path = tmp_path_factory.mktemp("seeds") / "seeds.hdf5"
    twin_run.record(path, LayoutConfig(task=load_task(DEMO_TASK)), fps=30)
    return path


@pytest.fixture(scope="module")
def generated(seed_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    return out, generate(settings(seed_file, out), say=lambda line: None)


def test_generated_demos_have_the_recorded_layout_and_can_seed_again(seed_file, generated):
    out, summary = generated
    hdf5 = out / "generated.hdf5"
    assert summary.tally.kept == 2 and summary.tally.successes == 2 and summary.stopped == "done"
    seed, made = read_hdf5_demos(seed_file), read_hdf5_demos(hdf5)
    assert set(seed.demos[0].arrays) == set(made.demos[0].arrays), "the same keys as a recorded demo"
    assert made.demos[0]["obs/wrist"].shape[1:] == (48, 64, 3), "rendered at the seeds' size"
    assert len(np.unique(made.demos[0]["obs/wrist"].reshape(len(made.demos[0].actions), -1), axis=0)) > 10
    assert all(demo.success for demo in made.demos) and made.env_args["task"] == DEMO_TASK
    assert validate(hdf5, "isaaclab").ok and validate(out / "generated_lerobot", "lerobot").ok
    assert len(load_seeds([hdf5]).demos) == 2, "their own datagen_info: they seed a new run"
    trials = trial_numbers(hdf5)
    assert trials == sorted(trials) and len(set(trials)) == 2
    report = json.loads((out / "report.json").read_text())
    assert report["successes"] == 2 and report["trials"] == summary.tally.trials
    assert report["successful_per_seed"] == 2.0 and set(report["failures_per_subtask"]) == {
        s.name for s in load_task(DEMO_TASK).subtasks}
    assert sum(report["failures_per_subtask"].values()) == report["failures"]
    assert (out / "report.png").stat().st_size > 10_000


def test_a_generated_demo_replayed_from_its_initial_state_in_a_fresh_twin_ends_the_same(generated):
    out, _ = generated
    data = read_hdf5_demos(out / "generated.hdf5")
    units = file_units(data.env_args)
    demo = data.demos[0]
    task = load_task(DEMO_TASK)
    robot = demo[f"initial_state/{ROBOT}/root_pose"][0]
    objects = {name: relative_pose(robot, demo[f"initial_state/rigid_object/{name}/root_pose"][0])
               for name in task.scene.objects}
    with MujocoTwin(TwinConfig(cameras=())) as twin:
        replay_actions(twin, units.to_radians(demo[f"initial_state/{ROBOT}/joint_position"][0]), objects,
                       units.to_radians(demo.actions), data.env_args["fps"])
        joints, poses = twin.state().position, twin.object_poses()
    assert is_success(task, joints[5], poses) == demo.success
    recorded_cube = relative_pose(robot, demo["states/rigid_object/red_cube/root_pose"][-1])
    assert poses["red_cube"][:3] == pytest.approx(recorded_cube[:3], abs=0.002)
    assert joints == pytest.approx(units.to_radians(demo[f"states/{ROBOT}/joint_position"][-1]), abs=0.01)


def test_a_killed_run_resumes_without_losing_or_repeating_a_demo(seed_file, generated, tmp_path):
    out = tmp_path / "killed"
    run = cli(*cli_args(seed_file, out, "--num-demos", "3"))
    hdf5 = out / "generated.hdf5"
    deadline = time.monotonic() + WAIT_S
    while _saved_demos(hdf5) < 1:
        assert run.poll() is None, f"the run ended before a demo was saved: {run.communicate()}"
        assert time.monotonic() < deadline, "no demo saved in time"
        time.sleep(0.1)  # polling the file another process writes
    run.send_signal(signal.SIGKILL)
    run.communicate()
    before = trial_numbers(hdf5)
    assert 1 <= len(before) < 3, "killed half-way"
    summary = generate(settings(seed_file, out, num_demos=3, resume=True, workers=2), say=lambda line: None)
    assert summary.generated == 3 - len(before)
    after = trial_numbers(hdf5)
    assert after[:len(before)] == before and len(set(after)) == len(after) == 3, "kept, not repeated"
    assert not (out / "generated.hdf5.recording").exists()
    chain = verify_chain(hdf5, show_progress=False)
    resumed_run = chain.root
    (killed_run,) = [node for node in resumed_run.children if node.status == "in place"]
    assert chain.ok and (resumed_run.manifest.kind, killed_run.manifest.kind) == (GENERATION, GENERATION)
    assert killed_run.name == "generated.hdf5", "the killed run's manifest, as its file was resumed"
    assert resumed_run.manifest.settings["outcome"]["kept"] == 3 and "outcome" not in killed_run.manifest.settings
    for resumed, uninterrupted in zip(demo_actions(hdf5), demo_actions(generated[0] / "generated.hdf5")):
        np.testing.assert_array_equal(resumed, uninterrupted)


@pytest.fixture(scope="module")
def ray_head():
    """A local Ray head on loopback ports of its own, stopped by its process id at the end."""
    ray = Path(sys.executable).with_name("ray")
    if not ray.exists():
        pytest.skip("ray (sim_bridge's optional extra, in requirements-dev.txt) is not installed")
    port, agent, metrics, runtime_env = free_ports(4)
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    head = subprocess.Popen(
        [str(ray), "start", "--head", "--block", "--port", str(port),
         "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", temp,
         "--dashboard-agent-listen-port", str(agent), "--metrics-export-port", str(metrics),
         "--runtime-env-agent-port", str(runtime_env)],
        env={**os.environ, **RAY_ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not listening_addresses(port):
            assert head.poll() is None and time.monotonic() < deadline, "the Ray head did not start"
            time.sleep(0.2)  # waiting for the head's port
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()
        head.wait(60)
        shutil.rmtree(temp, ignore_errors=True)


def test_ray_tasks_generate_the_same_demos_into_one_file(seed_file, generated, ray_head, tmp_path):
    out = tmp_path / "ray"
    run = cli(*cli_args(seed_file, out, "--num-demos", "2", "--ray-address", ray_head), env=RAY_ENV)
    stdout, stderr = run.communicate(timeout=WAIT_S)
    assert run.returncode == 0, stderr
    assert json.loads((out / "report.json").read_text())["executor"] == "ray"
    trials = trial_numbers(out / "generated.hdf5")
    assert len(set(trials)) == len(trials) == 2
    for remote, local in zip(demo_actions(out / "generated.hdf5"), demo_actions(generated[0] / "generated.hdf5"),
                             strict=True):
        np.testing.assert_array_equal(remote, local)


# --- bad input: a message before any work ---------------------------------------------------------


def spec_with(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(task_text(DEMO_TASK)[0])
    change(data)
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def assert_nothing_written(out: Path) -> None:
    assert not (out / "generated.hdf5").exists() and not (out / "trials.jsonl").exists()


def test_a_seed_file_without_annotations_is_refused_with_how_to_annotate(twin_run, tmp_path):
    plain = tmp_path / "plain.hdf5"
    twin_run.record(plain, LayoutConfig(), fps=30)  # no task: no datagen_info
    run = cli(*cli_args(plain, tmp_path / "out", "--task", DEMO_TASK, "--num-demos", "1"))
    _, stderr = run.communicate(timeout=WAIT_S)
    assert run.returncode == 1
    assert "has no obs/datagen_info" in stderr and "so101-dataset annotate" in stderr and len(stderr.splitlines()) == 1
    assert_nothing_written(tmp_path / "out")


def test_a_demo_whose_signals_never_rise_is_left_out_with_the_reason(seed_file, tmp_path):
    seeds = tmp_path / "seeds.hdf5"
    shutil.copyfile(seed_file, seeds)
    with h5py.File(seeds, "a") as file:
        file.copy(file["data/demo_0"], "data/demo_1")  # a second demo whose grasp failed while recording
        file["data/demo_1/obs/datagen_info/subtask_term_signals/grasp_red_cube"][...] = False
    loaded = load_seeds([seeds])
    assert [demo.name for demo in loaded.demos] == ["seeds.hdf5:demo_0"]
    assert loaded.left_out == ("seeds.hdf5:demo_1: subtask signal grasp_red_cube must start False and rise exactly "
                               "once (it rises 0 time(s) and falls 0); re-annotate the demo (so101-dataset annotate) "
                               "or leave it out",)
    with h5py.File(seeds, "a") as file:
        file["data/demo_0/obs/datagen_info/subtask_term_signals/grasp_red_cube"][...] = False
    with pytest.raises(MimicGenError, match="no usable seed demo in .*demo_0: .*; .*demo_1: "):
        load_seeds([seeds])


def test_a_task_naming_objects_the_scene_lacks_is_refused(seed_file, tmp_path):
    task = spec_with(tmp_path, lambda d: d["scene"]["objects"].update(purple_ball="Ball"))
    with pytest.raises(MimicGenError, match=r"names object\(s\) \['purple_ball'\] that the twin's scene lacks"):
        generate(settings(seed_file, tmp_path / "out", task=str(task)), say=lambda line: None)
    assert_nothing_written(tmp_path / "out")


def test_unreachable_randomization_ranges_are_refused(seed_file, tmp_path):
    task = spec_with(tmp_path, lambda d: d["randomization"]["red_cube"].update(x=[0.3, 0.4]))
    unreachable = r"randomization of red_cube cannot be reached: .* x \+0\.[34]00 m.*missed by"
    with pytest.raises(MimicGenError, match=unreachable):
        generate(settings(seed_file, tmp_path / "out", task=str(task)), say=lambda line: None)
    assert_nothing_written(tmp_path / "out")


def test_settings_that_cannot_work_are_refused(seed_file, generated, tmp_path):
    with pytest.raises(MimicGenError, match="--calibration"):
        settings(seed_file, tmp_path, calibration=None)
    with pytest.raises(MimicGenError, match="unknown; the twin renders"):
        settings(seed_file, tmp_path, cameras=("top",))
    with pytest.raises(MimicGenError, match="already holds a generation run.*--resume"):
        generate(settings(seed_file, generated[0]), say=lambda line: None)
    with pytest.raises(MimicGenError, match="other settings.*seed 5 → 6"):
        generate(settings(seed_file, generated[0], seed=6, resume=True), say=lambda line: None)


def _saved_demos(path: Path) -> int:
    """Demos in a file another process writes (read without locking it; 0 while it cannot be read)."""
    try:
        with h5py.File(path, "r", locking=False) as file:
            return sum(1 for name in file["data"] if name.startswith("demo_"))
    except (OSError, KeyError):
        return 0
