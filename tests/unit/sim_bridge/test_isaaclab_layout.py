"""Every key of an Isaac Lab / LeIsaac demo against the reference facts (docs/reference/datasets-mimic.md §1, §2, §6).

The episode is real: the MuJoCo twin does the demo's pick-and-place (the scripted operator's
moves), and the recorder records its joint states, the commands and the objects' poses, with the
demo's task spec and a mount pose like LeIsaac's PickOrange (2.2, −0.61, 0.89, yaw 180°).
"""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from so101_calibration import SIM_JOINT_NAMES, SimMappingConfig, SimUnits, build_sim_mapping
from so101_sim_bridge.geometry import compose_poses, matrix_to_pose, pose_to_matrix, relative_pose
from so101_sim_bridge.recorder.isaaclab_layout import LEISAAC_IMAGE_SIZE, LayoutConfig
from so101_sim_bridge.tasks import DEMO_TASK, load_task, segment_ends
from so101_sim_bridge.twin.kinematics import So101Kinematics

FPS = 10
MOUNT = (2.2, -0.61, 0.89, 0.0, 0.0, 0.0, 1.0)
ROBOT = "articulation/robot"


def record(path, twin_run, layout, mapping=None, marks_at=()):
    return twin_run.record(path, layout, mapping, marks_at, fps=FPS)


def task_with_mount(tmp_path):
    from importlib import resources

    import yaml

    data = yaml.safe_load(resources.files("so101_sim_bridge.tasks").joinpath("specs", f"{DEMO_TASK}.yaml").read_text())
    data["scene"]["robot_root_pose"] = list(MOUNT)
    data["scene"]["objects"] = {"red_cube": "Cube", "blue_block": "Block", "green_cylinder": "Cylinder"}
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_task(path)


@pytest.fixture(scope="module")
def default_file(tmp_path_factory, twin_run):
    tmp_path = tmp_path_factory.mktemp("layout")
    path = tmp_path / "demos.hdf5"
    summary = record(path, twin_run, LayoutConfig(task=task_with_mount(tmp_path)))
    return path, summary


def leaves(group: h5py.Group) -> dict[str, h5py.Dataset]:
    found = {}
    group.visititems(lambda name, item: found.__setitem__(name, item) if isinstance(item, h5py.Dataset) else None)
    return found


def test_every_key_of_the_reference_layout_with_its_shape_and_dtype(default_file):
    path, summary = default_file
    with h5py.File(path) as f:
        data = f["data"]
        env_args = json.loads(data.attrs["env_args"])
        assert env_args["env_name"] == "SO101-PickRedCube-Mimic-v0" and env_args["type"] == 2
        demo = data["demo_0"]
        n = summary.steps - 1
        assert demo.attrs["num_samples"] == n == len(demo["actions"]) and data.attrs["total"] == n
        assert (demo.attrs["seed"], bool(demo.attrs["success"])) == (7, True)
        expected = {
            "actions": (n, 6), "processed_actions": (n, 6),
            **{f"obs/{k}": (n, 6) for k in ("joint_pos", "joint_vel", "joint_pos_rel", "joint_vel_rel", "actions",
                                            "joint_pos_target")},
            "obs/ee_frame_state": (n, 7), "obs/wrist": (n, 48, 64, 3),
            **{f"obs/datagen_info/{g}/so101_follower": (n, 4, 4) for g in ("eef_pose", "target_eef_pose")},
            **{f"obs/datagen_info/object_pose/{o}": (n, 4, 4) for o in ("Cube", "Block", "Cylinder")},
            **{f"obs/datagen_info/subtask_term_signals/{s}": (n,) for s in ("grasp_red_cube", "place_on_blue_block")},
        }
        for prefix, rows in (("initial_state", 1), ("states", n)):
            expected.update({f"{prefix}/{ROBOT}/root_pose": (rows, 7), f"{prefix}/{ROBOT}/root_velocity": (rows, 6),
                             f"{prefix}/{ROBOT}/joint_position": (rows, 6), f"{prefix}/{ROBOT}/joint_velocity": (rows, 6)})
            for name in ("Cube", "Block", "Cylinder"):
                expected.update({f"{prefix}/rigid_object/{name}/root_pose": (rows, 7),
                                 f"{prefix}/rigid_object/{name}/root_velocity": (rows, 6)})
        found = leaves(demo)
        assert {k: v.shape for k, v in found.items()} == expected
        for key, dataset in found.items():
            kind = np.uint8 if key == "obs/wrist" else bool if "subtask_term_signals" in key else np.float32
            assert dataset.dtype == kind, key


def test_observations_before_the_step_states_after_it(default_file):
    path, _ = default_file
    with h5py.File(path) as f:
        demo = f["data/demo_0"]
        obs, actions = demo["obs/joint_pos"][()], demo["actions"][()]
        after = demo[f"states/{ROBOT}/joint_position"][()]
        assert after[:-1] == pytest.approx(obs[1:]), "state t = the observation of row t + 1"
        assert demo[f"initial_state/{ROBOT}/joint_position"][0] == pytest.approx(obs[0]), "the state after the reset"
        assert demo["obs/actions"][0] == pytest.approx(np.zeros(6)) and demo["obs/actions"][1:] == pytest.approx(actions[:-1])
        target = demo["obs/joint_pos_target"][()]
        assert target[0] == pytest.approx(obs[0]) and target[1:] == pytest.approx(actions[:-1]), "the PD target in force"
        assert demo["processed_actions"][()] == pytest.approx(actions)
        assert demo["obs/joint_pos_rel"][()] == pytest.approx(obs), "defaults are 0: relative = absolute"
        assert np.abs(demo["obs/joint_vel"][()]).max() > 0.5, "the arm's velocities, rad/s"


def test_end_effector_pose_is_forward_kinematics_w_first_in_the_root_frame(default_file):
    path, _ = default_file
    kinematics = So101Kinematics()
    with h5py.File(path) as f:
        demo = f["data/demo_0"]
        ee = demo["obs/ee_frame_state"][()]
        joints = demo["obs/joint_pos"][()]  # physical radians (default profile, so101 mapping)
        assert ee == pytest.approx(kinematics.gripper_pose(joints).astype(np.float32), abs=1e-5)
        assert np.linalg.norm(ee[:, 3:], axis=1) == pytest.approx(1.0, abs=1e-5)
        eef = demo["obs/datagen_info/eef_pose/so101_follower"][()]
        assert matrix_to_pose(eef)[:, :3] == pytest.approx(ee[:, :3], abs=1e-5)
        assert np.abs(np.sum(matrix_to_pose(eef)[:, 3:] * ee[:, 3:], axis=1)) == pytest.approx(1.0, abs=1e-4)
        target = demo["obs/datagen_info/target_eef_pose/so101_follower"][()]
        assert target == pytest.approx(kinematics.gripper_matrix(demo["actions"][()]), abs=1e-5)
        # In the root frame, not the env frame: the gripper is within the arm's 0.45 m reach of the origin.
        assert np.linalg.norm(ee[:, :3], axis=1).max() < 0.45


def test_objects_root_poses_are_in_the_env_frame_and_mimic_poses_in_the_robot_frame(default_file, twin_run):
    path, _ = default_file
    with h5py.File(path) as f:
        demo = f["data/demo_0"]
        assert demo[f"states/{ROBOT}/root_pose"][()] == pytest.approx(np.tile(MOUNT, (len(demo["actions"]), 1)))
        assert demo[f"initial_state/{ROBOT}/root_velocity"][()] == pytest.approx(np.zeros((1, 6)))
        cube_env = np.vstack([demo["initial_state/rigid_object/Cube/root_pose"][()],
                              demo["states/rigid_object/Cube/root_pose"][()]])
        cube_robot = demo["obs/datagen_info/object_pose/Cube"][()]
        in_robot = relative_pose(np.broadcast_to(MOUNT, cube_env.shape), cube_env)
        assert pose_to_matrix(in_robot[:-1]) == pytest.approx(cube_robot, abs=1e-4), "pre-step rows, robot frame"
        start = twin_run["objects"][0]["red_cube"]
        assert cube_env[0] == pytest.approx(compose_poses(np.array(MOUNT), start).astype(np.float32), abs=1e-5)
        assert cube_env[0, 2] == pytest.approx(0.89 + 0.02, abs=1e-3), "on the table, mount height above the env"
        velocity = demo["states/rigid_object/Cube/root_velocity"][()]
        assert np.abs(velocity[:, :3]).max() > 0.05, "carried: linear velocity, m/s"
        cylinder = demo["states/rigid_object/Cylinder/root_velocity"][()]
        # untouched: it stays put (MuJoCo 3.5 lets it rock in place by a few hundredths of rad/s as it settles)
        assert np.abs(cylinder[:, :3]).max() < 0.01 and np.abs(cylinder[:, 3:]).max() < 0.1, "untouched"


def test_subtask_signals_rise_once_in_order_as_mimic_needs(default_file):
    path, _ = default_file
    task = load_task(DEMO_TASK)
    with h5py.File(path) as f:
        demo = f["data/demo_0"]
        assert demo.attrs["subtask_annotation"] == "auto"
        signals = {n: demo[f"obs/datagen_info/subtask_term_signals/{n}"][()] for n in task.signal_names}
    ends = segment_ends(signals)
    for signal in signals.values():
        assert not signal[0] and signal[-1] and np.count_nonzero(np.diff(signal.astype(int))) == 1
    offsets = [s.subtask_term_offset_range for s in task.subtasks]
    assert ends[0] + offsets[0][1] < ends[1] + offsets[1][0], "Mimic's offset assert holds"
    assert 2.7 * FPS <= ends[0] <= 4.2 * FPS and 6.5 * FPS <= ends[1] <= 8.0 * FPS


def test_operator_marks_override_the_rules(tmp_path, twin_run):
    path = tmp_path / "demos.hdf5"
    record(path, twin_run, LayoutConfig(task=load_task(DEMO_TASK)), marks_at=(2.0, 5.0))
    with h5py.File(path) as f:
        demo = f["data/demo_0"]
        assert demo.attrs["subtask_annotation"] == "manual"
        grasp = demo["obs/datagen_info/subtask_term_signals/grasp_red_cube"][()]
    assert int(np.argmax(grasp)) == pytest.approx(2.0 * FPS, abs=1)


def test_the_leisaac_profile_writes_task_rate_rows_in_leisaac_units(tmp_path, twin_run, calibration):
    leisaac = build_sim_mapping(SimMappingConfig(SIM_JOINT_NAMES["so101"], SimUnits.LEISAAC), calibration)
    path = tmp_path / "demos.hdf5"
    summary = record(path, twin_run, LayoutConfig(profile="leisaac", task=load_task(DEMO_TASK), image_size=(96, 128)),
                     mapping=leisaac)
    with h5py.File(path) as f:
        env_args = json.loads(f["data"].attrs["env_args"])
        demo = f["data/demo_0"]
        rows = len(demo["actions"])
        duration = (summary.steps - 1) / FPS
        assert (env_args["profile"], env_args["fps"], env_args["recorded_fps"]) == ("leisaac", 60, FPS)
        assert rows == int(duration * 60), "one row per 60 Hz task step"
        assert demo["obs/wrist"].shape == (rows, 96, 128, 3)
        frames = demo["obs/wrist"][:, 0, 0, 0]
        assert frames[:6].tolist() == [0] * 6 and frames[6:12].tolist() == [1] * 6, "sample-and-hold: 6 rows per frame"
        joints = demo["obs/joint_pos"][()]
        physical = np.array(twin_run["joints"])[:: round(1 / (FPS * 0.01))]  # 10 ms ticks
        assert joints[::6][:5] == pytest.approx(leisaac.to_sim(physical[:5]).astype(np.float32), abs=2e-3)
        assert np.array(env_args["sim_mapping"]["scale"]) == pytest.approx(leisaac.scale)
    assert LayoutConfig(profile="leisaac").image_size == LEISAAC_IMAGE_SIZE == (480, 640)
