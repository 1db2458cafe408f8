"""LeRobot v3.0 dataset: files, metadata, units, video, failed episodes left out."""
from __future__ import annotations

import json

import av
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from so101_calibration import UnitConverter
from so101_sim_bridge.recorder import (
    DemoRecorder,
    Hdf5DemoWriter,
    Hdf5WriterConfig,
    LeRobotDatasetWriter,
    LeRobotWriterConfig,
    OutputExistsError,
    RecorderConfig,
    read_hdf5_demos,
)

EPISODES = [(0, 10, True), (1, 6, False), (2, 8, True)]


def record(tmp_path, feed_episode, units, episodes=EPISODES, **config):
    root = tmp_path / "lerobot"
    writers = [Hdf5DemoWriter(Hdf5WriterConfig(tmp_path / "demos.hdf5")), LeRobotDatasetWriter(
        LeRobotWriterConfig(root, **config), units)]
    with DemoRecorder(RecorderConfig(), writers) as recorder:
        for episode, steps, success in episodes:
            instruction = "pick up the red cube" if episode != 2 else "stack the blocks"
            feed_episode(recorder, episode, steps, success, instruction=instruction)
    return root


def decoded_frames(path):
    with av.open(str(path)) as container:
        return [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def test_dataset_layout_and_metadata(tmp_path, feed_episode, degrees):
    root = record(tmp_path, feed_episode, degrees)
    for relative in ("meta/info.json", "meta/stats.json", "meta/tasks.parquet",
                     "meta/episodes/chunk-000/file-000.parquet", "data/chunk-000/file-000.parquet",
                     "videos/observation.images.wrist/chunk-000/file-000.mp4",
                     "videos/observation.images.front/chunk-000/file-000.mp4"):
        assert (root / relative).is_file(), relative
    assert not (root / ".recording").exists()
    info = json.loads((root / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 30
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (2, 18, 2)
    assert info["splits"] == {"train": "0:2"}
    assert info["features"]["observation.state"]["names"][0] == "shoulder_pan.pos"
    wrist = info["features"]["observation.images.wrist"]
    assert wrist["dtype"] == "video" and wrist["shape"] == [48, 64, 3]
    assert wrist["info"]["video.codec"] == "h264" and wrist["info"]["video.pix_fmt"] == "yuv420p"
    tasks = pd.read_parquet(root / "meta/tasks.parquet")
    assert tasks.loc["stack the blocks", "task_index"] == 1
    stats = json.loads((root / "meta/stats.json").read_text())
    assert stats["action"]["count"] == [18] and len(stats["action"]["q50"]) == 6
    assert np.array(stats["observation.images.front"]["mean"]).shape == (3, 1, 1)


def test_frames_and_units(tmp_path, feed_episode, degrees):
    root = record(tmp_path, feed_episode, degrees)
    data = pq.read_table(root / "data/chunk-000/file-000.parquet").to_pandas()
    assert data["episode_index"].tolist() == [0] * 10 + [1] * 8  # the failed episode is left out
    assert data["index"].tolist() == list(range(18))
    assert data["timestamp"].iloc[11] == pytest.approx(1 / 30)
    assert data["task_index"].tolist() == [0] * 10 + [1] * 8
    state = np.stack(data["observation.state"])
    expected = degrees.radians_to_normalized(feed_episode.joint_value(2, 3))
    assert state[13] == pytest.approx(expected, abs=1e-4)
    assert state[13][0] == pytest.approx(np.degrees(feed_episode.joint_value(2, 3)[0]), abs=0.1)  # degrees
    episodes = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    second = episodes[1]
    assert (second["dataset_from_index"], second["dataset_to_index"], second["length"]) == (10, 18, 8)
    assert second["tasks"] == ["stack the blocks"]
    assert second["videos/observation.images.wrist/from_timestamp"] == pytest.approx(10 / 30)
    assert second["videos/observation.images.wrist/to_timestamp"] == pytest.approx(18 / 30)
    frames = decoded_frames(root / "videos/observation.images.wrist/chunk-000/file-000.mp4")
    assert len(frames) == 18
    assert [t for t, _ in frames] == pytest.approx([i / 30 for i in range(18)])
    assert frames[13][1].mean() == pytest.approx(feed_episode.image_value(2, 3), abs=3)  # lossy codec


def test_normalized_units_and_failed_episodes_on_request(tmp_path, feed_episode, calibration):
    root = record(tmp_path, feed_episode, UnitConverter(calibration, use_degrees=False), include_failed=True)
    info = json.loads((root / "meta/info.json").read_text())
    assert info["total_episodes"] == 3 and info["units"] == "range_m100_100"
    state = np.stack(pq.read_table(root / "data/chunk-000/file-000.parquet").to_pandas()["observation.state"])
    assert np.abs(state[:, :5]).max() <= 100 and 0 <= state[:, 5].min()
    assert read_hdf5_demos(tmp_path / "demos.hdf5").demos[1].success is False


def test_av1_video_option(tmp_path, feed_episode, degrees):
    from so101_sim_bridge.recorder import VideoConfig

    video = VideoConfig(codec="libsvtav1", crf=35, preset="13")
    root = record(tmp_path, feed_episode, degrees, episodes=[(0, 4, True)], video=video)
    info = json.loads((root / "meta/info.json").read_text())
    assert info["features"]["observation.images.front"]["info"]["video.codec"] == "av1"
    assert len(decoded_frames(root / "videos/observation.images.front/chunk-000/file-000.mp4")) == 4


@pytest.mark.parametrize(("settings", "error"), [
    (dict(preset="13"), "preset '13' unknown for h264"),
    (dict(codec="libsvtav1", preset="superfast"), "unknown for libsvtav1"),
    (dict(crf=52), r"crf must be within 0\.\.51 for h264"),
])
def test_video_settings_are_checked_per_codec(settings, error):
    from so101_sim_bridge.recorder import VideoConfig

    with pytest.raises(ValueError, match=error):
        VideoConfig(**settings)


def test_existing_dataset_directory_is_refused(tmp_path, degrees):
    root = tmp_path / "lerobot"
    (root / "meta").mkdir(parents=True)
    with pytest.raises(OutputExistsError, match="not empty"):
        LeRobotDatasetWriter(LeRobotWriterConfig(root), degrees)


def test_image_stats_samples_do_not_keep_whole_frames_alive():
    """Every 5th frame feeds the stats: a strided view of it would hold ~1 MB per sample until close."""
    from so101_sim_bridge.recorder.lerobot_writer import _downsample

    frame = np.zeros((480, 640, 3), np.uint8)
    sample = _downsample(frame)
    assert sample.shape == (120, 160, 3) and sample.base is None


def test_image_stats_from_histograms_equal_numpys_over_the_scaled_pixels():
    from so101_sim_bridge.recorder.stats import QUANTILES, image_stats

    rng = np.random.default_rng(7)
    frames = rng.integers(0, 256, (13, 24, 32, 3), dtype=np.uint8)
    frames[..., 2] //= 5  # channels with different spreads
    scaled = frames.astype(np.float64) / 255.0
    stats = image_stats(frames)
    expected = {"min": scaled.min(axis=(0, 1, 2)), "max": scaled.max(axis=(0, 1, 2)),
                "mean": scaled.mean(axis=(0, 1, 2)), "std": scaled.std(axis=(0, 1, 2)),
                **dict(zip(QUANTILES, np.quantile(scaled, list(QUANTILES.values()), axis=(0, 1, 2))))}
    for key, value in expected.items():
        assert stats[key].shape == (3, 1, 1)
        np.testing.assert_allclose(stats[key].ravel(), value, rtol=0, atol=1e-12, err_msg=key)
    assert stats["count"].tolist() == [13]
    with pytest.raises(ValueError, match="uint8"):
        image_stats(scaled)
