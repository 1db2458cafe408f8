"""The replay backend serves recorded episodes (Isaac Lab HDF5 and LeRobot v3) aligned to time since reset."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from so101_calibration import JOINT_NAMES, UnitConverter
from so101_policy import DatasetError, JointUnits, ObservationError, Protocol, data_config, default_data_config
from so101_policy.embodiment.joint_units import convert_units
from so101_policy.server.backends.replay import ReplayPolicy
from so101_policy.server.datasets import read_episode


class FakeClock:
    def __init__(self, now: float = 50.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def nested_observation(state_dtype=np.float32) -> dict:
    frame = np.zeros((1, 1, 4, 4, 3), np.uint8)
    return {"video": {"front": frame, "wrist": frame},
            "state": {"single_arm": np.zeros((1, 1, 5), state_dtype), "gripper": np.zeros((1, 1, 1), state_dtype)},
            "language": {"annotation.human.task_description": [["stack the cubes"]]}}


def flat_observation() -> dict:
    return {"video.front": np.zeros((1, 4, 4, 3), np.uint8), "video.wrist": np.zeros((1, 4, 4, 3), np.uint8),
            "state.single_arm": np.zeros((1, 5)), "state.gripper": np.zeros((1, 1)),
            "annotation.human.task_description": ["stack the cubes"]}


# --- readers ---------------------------------------------------------------------------------------


def test_hdf5_episodes_are_read_in_radians_first_demo_by_default(isaaclab_hdf5, recorded_radians):
    path = isaaclab_hdf5({3: recorded_radians(40), 7: recorded_radians(20, phase=1.0)})
    first = read_episode(path)
    assert first.units is JointUnits.RADIANS and first.fps == 30.0 and first.source == "demos.hdf5:/data/demo_3"
    np.testing.assert_array_equal(first.actions, recorded_radians(40))
    assert read_episode(path, episode=7, fps=15.0).actions.shape == (20, 6)
    assert read_episode(path, episode=7, fps=15.0).fps == 15.0


@pytest.mark.parametrize("damage,message", [
    (lambda f: f.__delitem__("data/demo_0/actions"), "has no 'actions'"),
    (lambda f: f.__delitem__("data"), "no /data group"),
    (lambda f: (f.__delitem__("data/demo_0/actions"), f.create_dataset("data/demo_0/actions", data=np.zeros((5, 4)))),
     r"need \(T, 6\) actions"),
    (lambda f: (f.__delitem__("data/demo_0/actions"),
                f.create_dataset("data/demo_0/actions", data=np.full((5, 6), np.nan))), "NaN"),
])
def test_a_broken_hdf5_file_is_a_dataset_error(isaaclab_hdf5, damage, message):
    path = isaaclab_hdf5()
    with h5py.File(path, "a") as file:
        damage(file)
    with pytest.raises(DatasetError, match=message):
        read_episode(path)


def test_missing_episodes_and_files_name_what_exists(isaaclab_hdf5, tmp_path):
    with pytest.raises(DatasetError, match=r"no /data/demo_4; episodes are \[0\]"):
        read_episode(isaaclab_hdf5(), episode=4)
    with pytest.raises(DatasetError, match="no dataset at"):
        read_episode(tmp_path / "missing.hdf5")
    (tmp_path / "text.hdf5").write_text("not hdf5")
    with pytest.raises(DatasetError, match="not a readable HDF5 file"):
        read_episode(tmp_path / "text.hdf5")
    with pytest.raises(DatasetError, match="--units applies to LeRobot datasets only"):
        read_episode(isaaclab_hdf5(), lerobot_units=JointUnits.DEGREES)


def test_lerobot_episodes_follow_the_feature_names_and_frame_order(lerobot_dataset):
    degrees = np.arange(30 * 6, dtype=np.float32).reshape(30, 6)
    names = [f"{joint}.pos" for joint in reversed(JOINT_NAMES)]
    root = lerobot_dataset({0: degrees[:10], 1: degrees[:, ::-1]}, names=names, shuffle=True)
    episode = read_episode(root, episode=1, lerobot_units=JointUnits.DEGREES)
    np.testing.assert_array_equal(episode.actions, degrees)
    assert episode.fps == 30.0 and episode.units is JointUnits.DEGREES
    assert read_episode(root, lerobot_units=JointUnits.NORMALIZED).actions.shape == (10, 6)


def test_lerobot_datasets_need_their_units_said(lerobot_dataset, recorded_radians):
    root = lerobot_dataset({0: recorded_radians(5)})
    with pytest.raises(DatasetError, match="do not record whether actions are degrees"):
        read_episode(root)
    assert read_episode(root, lerobot_units=JointUnits.DEGREES, fps=10.0).fps == 10.0, "overridden on purpose"
    with pytest.raises(DatasetError, match=r"no frames of episode 3; episodes are \[0\]"):
        read_episode(root, episode=3, lerobot_units=JointUnits.DEGREES)


def test_lerobot_action_names_must_cover_every_joint(lerobot_dataset, recorded_radians):
    root = lerobot_dataset({0: recorded_radians(5)}, names=[f"motor_{i}" for i in range(6)])
    with pytest.raises(DatasetError, match="must name every SO-101 joint"):
        read_episode(root, lerobot_units=JointUnits.DEGREES)


# --- serving -----------------------------------------------------------------------------------------


@pytest.fixture
def degrees_replay(isaaclab_hdf5, calibration):
    def make(protocol: Protocol, **overrides):
        clock = FakeClock()
        config = default_data_config(protocol).with_overrides(**overrides)
        policy = ReplayPolicy(read_episode(isaaclab_hdf5()), config, protocol, JointUnits.DEGREES, calibration, clock)
        return policy, clock

    return make


def test_chunks_start_at_the_frame_recorded_at_the_time_since_reset(degrees_replay, calibration, recorded_radians):
    policy, clock = degrees_replay(Protocol.N1_6)
    policy.reset(None)
    clock.now += 1.0
    action, info = policy.get_action(nested_observation(), None)
    assert info == {"replay_frame_index": 30}
    assert action["single_arm"].shape == (1, 16, 5) and action["single_arm"].dtype == np.float32
    expected = UnitConverter(calibration, use_degrees=True).radians_to_normalized(recorded_radians()[30:46])
    np.testing.assert_allclose(action["single_arm"][0], expected[:, :5], rtol=1e-6)
    np.testing.assert_allclose(action["gripper"][0], expected[:, 5:], rtol=1e-6)


def test_the_first_get_action_starts_the_clock_and_the_end_repeats_the_last_frame(degrees_replay):
    policy, clock = degrees_replay(Protocol.N1_5, action_horizon=8)
    assert policy.get_action(flat_observation(), None)[1] == {"replay_frame_index": 0}
    clock.now += 2.9  # frame 87 of 90
    action, info = policy.get_action(flat_observation(), None)
    assert info == {"replay_frame_index": 87}
    arm = action["action.single_arm"]
    assert arm.shape == (8, 5) and set(action) == {"action.single_arm", "action.gripper"}
    np.testing.assert_array_equal(arm[3:], np.repeat(arm[2:3], 5, axis=0))
    clock.now += 100.0
    assert policy.get_action(flat_observation(), None)[1] == {"replay_frame_index": 89}


def test_modality_config_follows_the_data_config_and_generation(degrees_replay):
    policy, _ = degrees_replay(Protocol.N1_5)
    assert policy.get_modality_config()["action"].modality_keys == ("action.single_arm", "action.gripper")
    assert policy.get_modality_config()["action"].delta_indices == tuple(range(16))


@pytest.mark.parametrize("protocol,observation", [(Protocol.N1_6, nested_observation(np.float64)),
                                                  (Protocol.N1_5, nested_observation()),
                                                  (Protocol.N1_6, flat_observation())])
def test_observations_are_checked_like_a_strict_server(degrees_replay, protocol, observation):
    policy, _ = degrees_replay(protocol)
    with pytest.raises(ObservationError):
        policy.get_action(observation, None)


def test_the_language_key_and_cameras_come_from_the_data_config(isaaclab_hdf5):
    config = data_config("so100").with_overrides(language_key="annotation.human.action.task_description")
    policy = ReplayPolicy(read_episode(isaaclab_hdf5()), config, Protocol.N1_5, JointUnits.RADIANS)
    observation = {"video.webcam": np.zeros((1, 4, 4, 3), np.uint8), "state.single_arm": np.zeros((1, 5)),
                   "state.gripper": np.zeros((1, 1)), "annotation.human.action.task_description": ["go"]}
    assert policy.get_action(observation, None)[0]["action.gripper"].shape == (16, 1)
    with pytest.raises(ObservationError, match="lacks 'video.webcam'"):
        policy.get_action(flat_observation(), None)
    observation["annotation.human.task_description"] = observation.pop("annotation.human.action.task_description")
    with pytest.raises(ObservationError, match="lacks 'annotation.human.action.task_description'"):
        policy.get_action(observation, None)


def test_lerobot_units_are_converted_through_the_calibration(lerobot_dataset, calibration):
    normalized = np.tile(np.array([[-50.0, 0.0, 25.0, 50.0, 10.0, 40.0]], np.float32), (20, 1))
    root = lerobot_dataset({0: normalized})
    episode = read_episode(root, lerobot_units=JointUnits.NORMALIZED)
    policy = ReplayPolicy(episode, default_data_config(Protocol.N1_7), Protocol.N1_7, JointUnits.DEGREES,
                          calibration, FakeClock())
    action, _ = policy.get_action(nested_observation(), None)
    expected = convert_units(normalized[:1], JointUnits.NORMALIZED, JointUnits.DEGREES, calibration)
    np.testing.assert_allclose(action["single_arm"][0, 0], expected[0, :5], rtol=1e-6)


def test_same_units_need_no_calibration_and_different_units_say_how_to_get_one(lerobot_dataset, recorded_radians):
    root = lerobot_dataset({0: recorded_radians(10)})
    episode = read_episode(root, lerobot_units=JointUnits.DEGREES)
    ReplayPolicy(episode, default_data_config(Protocol.N1_6), Protocol.N1_6, JointUnits.DEGREES)
    with pytest.raises(ValueError, match="needs the arm's calibration .*--calibration PATH"):
        ReplayPolicy(episode, default_data_config(Protocol.N1_6), Protocol.N1_6, JointUnits.RADIANS)


@pytest.mark.parametrize("units", ["physical", "leisaac"])
def test_our_recordings_replay_at_their_recorded_rate_in_radians(tmp_path, calibration, units):
    """A file of our recorder records its rate and units: a 4 fps demo is served at 4 fps (issue: it was 30)."""
    from so101_calibration import SimMappingConfig, SimUnits, build_sim_mapping
    from so101_hardware.cameras import Frame
    from so101_sim_bridge.recorder import DemoRecorder, Hdf5DemoWriter, Hdf5WriterConfig, RecorderConfig

    mapping = build_sim_mapping(SimMappingConfig(units=SimUnits(units)), calibration)
    path = tmp_path / "demos.hdf5"
    commands = [np.full(6, 0.1 * i) for i in range(6)]
    writer = Hdf5DemoWriter(Hdf5WriterConfig(path, fps=4), mapping)
    with DemoRecorder(RecorderConfig(cameras=("wrist",)), [writer]) as recorder:
        recorder.start(100.0, "task")
        for i, command in enumerate(commands):
            t = 100.0 + i / 4
            recorder.add_joint_state(t, command)
            recorder.add_action(t, command)
            recorder.add_frame("wrist", Frame(np.zeros((8, 8, 3), np.uint8), i, t, t))
        recorder.stop(100.0 + 5 / 4, success=True)
    episode = read_episode(path)
    assert episode.fps == 4.0 and episode.units is JointUnits.RADIANS
    assert len(episode.actions) >= 3
    assert episode.actions == pytest.approx(np.array(commands[:len(episode.actions)]), abs=1e-5), "radians"
    assert read_episode(path, fps=8.0).fps == 8.0
