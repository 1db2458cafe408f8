"""Isaac Lab / LeIsaac HDF5 file: attributes, storage, units, resume and refusal to overwrite.

A demo has one row fewer than the recorded steps: states are taken after each row's action, so
the last recorded step only serves as the last state (isaaclab_layout.py; test_isaaclab_layout.py
checks every key).
"""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from so101_calibration import SimMappingConfig, SimUnits, build_sim_mapping
from so101_sim_bridge.recorder import (
    DemoRecorder,
    Hdf5DemoWriter,
    Hdf5WriterConfig,
    OutputExistsError,
    RecorderConfig,
    RecorderError,
    read_hdf5_demos,
)


def record(path, feed_episode, episodes, resume=False, mapping=None, **config):
    writer = Hdf5DemoWriter(Hdf5WriterConfig(path, resume=resume, **config), mapping)
    with DemoRecorder(RecorderConfig(), [writer]) as recorder:
        return [feed_episode(recorder, episode, steps, success) for episode, steps, success in episodes]


def test_layout_attributes_and_storage(tmp_path, feed_episode):
    path = tmp_path / "demos.hdf5"
    summaries = record(path, feed_episode, [(0, 12, True), (1, 7, False)], flush_every=5)
    assert [s.saved_as for s in summaries] == [("data/demo_0",), ("data/demo_1",)]
    with h5py.File(path, "r") as f:
        data = f["data"]
        assert data.attrs["total"] == 11 + 6
        env_args = json.loads(data.attrs["env_args"])
        assert env_args["type"] == 2 and env_args["joint_names"][0] == "shoulder_pan" and env_args["fps"] == 30
        assert (env_args["env_name"], env_args["profile"], env_args["task"]) == ("", "default", None)
        demo = data["demo_0"]
        assert (demo.attrs["num_samples"], demo.attrs["seed"], demo.attrs["success"]) == (11, 0, True)
        assert demo.attrs["recorded_steps"] == 12
        assert demo.attrs["instruction"] == "pick up the red cube"
        assert demo["actions"].shape == (11, 6) and demo["actions"].dtype == np.float32
        assert demo["obs/wrist"].shape == (11, *feed_episode.image_shape) and demo["obs/wrist"].dtype == np.uint8
        assert demo["states/articulation/robot/joint_position"].shape == (11, 6)
        assert demo["initial_state/articulation/robot/joint_position"].shape == (1, 6)
        for name in ("actions", "obs/joint_pos"):
            assert demo[name].compression == "lzf" and demo[name].chunks is not None
        assert demo["obs/front"].compression is None, "camera frames: no compression by default"
        assert not data["demo_1"].attrs["success"]
    assert not (tmp_path / "demos.hdf5.recording").exists()


@pytest.mark.parametrize(("choice", "stored"), [
    (dict(image_compression="lzf"), ("lzf", None)),
    (dict(image_compression="gzip", gzip_level=1), ("gzip", 1)),
])
def test_camera_frames_keep_the_chosen_compression_and_every_row_its_own_frame(tmp_path, feed_episode, choice, stored):
    path = tmp_path / "demos.hdf5"
    record(path, feed_episode, [(3, 9, True)], flush_every=4, **choice)
    with h5py.File(path, "r") as f:
        frames = f["data/demo_0/obs/wrist"]
        assert (frames.compression, frames.compression_opts) == stored
        assert frames.shape == (8, *feed_episode.image_shape), "the last recorded step only serves as a state"
        assert [int(frame.mean()) for frame in frames] == [feed_episode.image_value(3, i) for i in range(8)]


def test_an_unknown_image_compression_is_refused(tmp_path):
    with pytest.raises(ValueError, match="image compression 'zstd' unknown; one of none, lzf, gzip"):
        Hdf5WriterConfig(tmp_path / "demos.hdf5", image_compression="zstd")
    with pytest.raises(ValueError, match="gzip level must be within 1..9"):
        Hdf5WriterConfig(tmp_path / "demos.hdf5", image_compression="gzip", gzip_level=0)


def test_values_round_trip_in_physical_radians(tmp_path, feed_episode):
    path = tmp_path / "demos.hdf5"
    record(path, feed_episode, [(2, 5, True)])
    demo = read_hdf5_demos(path).demos[0]
    expected = np.array([feed_episode.joint_value(2, i) for i in range(5)], dtype=np.float32)
    assert demo.joint_pos == pytest.approx(expected[:4])
    assert demo.state_joint_position == pytest.approx(expected[1:]), "after each row's action"
    assert demo.actions == pytest.approx(expected[:4] + 0.05)
    assert demo.initial_joint_position[0] == pytest.approx(expected[0])
    assert [int(image[0, 0, 0]) for image in demo.images["front"]] == [feed_episode.image_value(2, i) for i in range(4)]


def test_leisaac_units_go_through_the_sim_mapping(tmp_path, feed_episode, calibration):
    mapping = build_sim_mapping(SimMappingConfig(units=SimUnits.LEISAAC), calibration)
    path = tmp_path / "demos.hdf5"
    record(path, feed_episode, [(0, 3, True)], mapping=mapping)
    demo = read_hdf5_demos(path).demos[0]
    assert demo.joint_pos[1] == pytest.approx(mapping.to_sim(feed_episode.joint_value(0, 1)), abs=1e-6)


def test_resume_continues_numbering_and_total(tmp_path, feed_episode):
    path = tmp_path / "demos.hdf5"
    record(path, feed_episode, [(0, 4, True), (1, 4, False)])
    summaries = record(path, feed_episode, [(2, 6, True)], resume=True)
    assert summaries[0].saved_as == ("data/demo_2",)
    dataset = read_hdf5_demos(path)
    assert [d.index for d in dataset.demos] == [0, 1, 2] and dataset.total == 3 + 3 + 5


def test_existing_file_without_resume_is_refused(tmp_path, feed_episode):
    path = tmp_path / "demos.hdf5"
    record(path, feed_episode, [(0, 3, True)])
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="resume=True"):
        Hdf5DemoWriter(Hdf5WriterConfig(path))
    assert path.read_bytes() == before


def test_resume_refuses_another_joint_naming(tmp_path, feed_episode):
    path = tmp_path / "demos.hdf5"
    record(path, feed_episode, [(0, 3, True)])
    usd_names = build_sim_mapping(SimMappingConfig(names=("Rotation", "Pitch", "Elbow", "Wrist_Pitch", "Wrist_Roll", "Jaw")))
    with pytest.raises(RecorderError, match="joint_names.*resume with the same settings"):
        Hdf5DemoWriter(Hdf5WriterConfig(path, resume=True), usd_names)


@pytest.mark.parametrize("steps", [0, 1])
def test_an_episode_without_two_complete_steps_is_not_saved(tmp_path, feed_episode, steps):
    path = tmp_path / "demos.hdf5"
    writer = Hdf5DemoWriter(Hdf5WriterConfig(path))
    with DemoRecorder(RecorderConfig(), [writer]) as recorder:
        summary = feed_episode(recorder, 0, steps) if steps else None
        if summary is None:
            recorder.start(0.0, "task")
            summary = recorder.stop(1 / feed_episode.fps, success=True)
        assert summary.saved_as == (None,)
        assert read_hdf5_demos(path).demos == ()
    assert not path.exists(), "a file that got no demo is removed on close: it would block the next session"
