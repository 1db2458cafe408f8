"""The embedded MuJoCo twin: model and conventions, tracking, determinism, rendering."""
from __future__ import annotations

import math

import numpy as np
import pytest

from so101_calibration import SIM_JOINT_NAMES, SO101_MODEL_LIMITS_RAD, SimMappingConfig, build_sim_mapping
from so101_sim_bridge.twin import MODEL_OFFSET_JOINTS, MujocoTwin, TwinCameraConfig, TwinConfig, so101_mjcf_path

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
    assert state.position == pytest.approx(target, abs=0.06)  # STS3215 model: kp 17.8 against gravity
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
    assert end[2] == pytest.approx(0.0125, abs=2e-3)


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
