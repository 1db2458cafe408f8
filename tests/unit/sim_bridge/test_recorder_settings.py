"""The recorder node's parameters and the recorder they build: inputs, outputs, and what existing outputs do."""
from __future__ import annotations

import pytest

from so101_calibration import SIM_JOINT_NAMES, write_calibration_file
from so101_calibration.interface_contract import CAMERA_IMAGE
from so101_sim_bridge.recorder import OutputExistsError, read_hdf5_demos
from so101_sim_bridge.recorder.settings import RecorderNodeConfig, open_recorder


@pytest.fixture
def follower_calibration(tmp_path, calibration):
    write_calibration_file(tmp_path / "follower.json", calibration)
    return str(tmp_path / "follower.json")


def config(tmp_path, **overrides) -> RecorderNodeConfig:
    fields = {"hdf5_path": str(tmp_path / "demos.hdf5"), "lerobot_root": str(tmp_path / "lerobot"), **overrides}
    return RecorderNodeConfig(**fields)


def test_cameras_read_their_own_topic_or_the_one_given(tmp_path):
    settings = config(tmp_path, cameras=("wrist=/my/wrist/image", "front"))
    assert settings.camera_topic_map == {"wrist": "/my/wrist/image", "front": CAMERA_IMAGE.format(name="front")}
    assert settings.recorder_config().cameras == ("wrist", "front")


@pytest.mark.parametrize(
    "bad,message",
    [
        (dict(hdf5_path="", lerobot_root=""), "nothing to write"),
        (dict(fps=0), "fps must be an integer"),
        (dict(state_units="degrees"), "state_units 'degrees' unknown"),
        (dict(cameras=("wrist", "wrist=/sim/wrist")), "distinct"),
        (dict(cameras=("=/topic",)), "distinct"),
        (dict(video_codec="mpeg2"), "unsupported"),
        (dict(video_preset="fastest"), "video preset 'fastest' unknown for h264"),
        (dict(video_codec="libsvtav1", video_crf=70), "crf must be within 0..63"),
        (dict(hdf5_image_compression="zstd"), "image compression 'zstd' unknown"),
        (dict(hdf5_image_compression="gzip", hdf5_gzip_level=10), "gzip level"),
        (dict(sim_units="radians"), "sim_units"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(tmp_path, bad, message):
    with pytest.raises(ValueError, match=message):
        config(tmp_path, **bad)


def test_outputs_are_written_in_the_mappings_sim_units(tmp_path, follower_calibration, feed_episode):
    settings = config(tmp_path, calibration=follower_calibration, sim_names="so_arm101_usd", cameras=("wrist", "front"))
    recorder, mapping = open_recorder(settings)
    assert mapping.names == SIM_JOINT_NAMES["so_arm101_usd"]
    with recorder:
        feed_episode(recorder, 0, 5)
    dataset = read_hdf5_demos(tmp_path / "demos.hdf5")
    assert dataset.env_args["joint_names"] == list(SIM_JOINT_NAMES["so_arm101_usd"])
    assert dataset.env_args["cameras"] == ["wrist", "front"] and dataset.env_args["sim_units"] == "physical"
    assert (tmp_path / "lerobot" / "meta" / "info.json").is_file()


def test_an_existing_hdf5_file_without_resume_is_refused_before_anything_is_written(tmp_path, follower_calibration):
    (tmp_path / "demos.hdf5").write_bytes(b"demos from yesterday")
    with pytest.raises(OutputExistsError, match="resume"):
        open_recorder(config(tmp_path, calibration=follower_calibration))
    assert (tmp_path / "demos.hdf5").read_bytes() == b"demos from yesterday"
    assert not (tmp_path / "lerobot").exists()


def test_a_used_lerobot_folder_is_refused_and_the_new_hdf5_file_removed_again(tmp_path, follower_calibration):
    (tmp_path / "lerobot").mkdir()
    (tmp_path / "lerobot" / "old.txt").write_text("keep me")
    with pytest.raises(OutputExistsError, match="not empty"):
        open_recorder(config(tmp_path, calibration=follower_calibration))
    assert not (tmp_path / "demos.hdf5").exists()
    assert (tmp_path / "lerobot" / "old.txt").read_text() == "keep me"


def test_a_session_that_recorded_nothing_leaves_nothing(tmp_path, follower_calibration):
    recorder, _ = open_recorder(config(tmp_path, calibration=follower_calibration))
    recorder.close()
    assert list(tmp_path.iterdir()) == [tmp_path / "follower.json"]
    open_recorder(config(tmp_path, calibration=follower_calibration))[0].close()  # so the same paths work again


def test_a_resumed_file_stays_even_when_nothing_was_added(tmp_path, feed_episode):
    with open_recorder(config(tmp_path, lerobot_root=""))[0] as recorder:
        feed_episode(recorder, 0, 4)
    open_recorder(config(tmp_path, lerobot_root="", resume=True))[0].close()
    assert len(read_hdf5_demos(tmp_path / "demos.hdf5").demos) == 1


def test_lerobot_units_need_the_followers_calibration(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_CALIBRATION", str(tmp_path / "nowhere"))
    with pytest.raises(Exception, match="follower"):
        open_recorder(config(tmp_path))
    assert not (tmp_path / "demos.hdf5").exists()
