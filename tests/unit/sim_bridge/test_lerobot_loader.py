"""LeRobot's own loader (lerobot 0.4.4 LeRobotDataset) opens what we write: metadata, rows and video frames."""
from __future__ import annotations

import numpy as np
import pytest

from so101_sim_bridge.recorder import DemoRecorder, LeRobotDatasetWriter, LeRobotWriterConfig, RecorderConfig

lerobot_dataset = pytest.importorskip(
    "lerobot.datasets.lerobot_dataset",
    reason="LeRobot's loader needs lerobot (--no-deps), torch, torchvision, torchcodec and FFmpeg libraries; "
    "see the sim_bridge README section",
)


def test_lerobot_dataset_loads_our_dataset(tmp_path, feed_episode, degrees):
    root = tmp_path / "so101_demos"
    with DemoRecorder(RecorderConfig(), [LeRobotDatasetWriter(LeRobotWriterConfig(root), degrees)]) as recorder:
        feed_episode(recorder, 0, 9, instruction="pick up the red cube")
        feed_episode(recorder, 1, 5, success=False)
        feed_episode(recorder, 2, 7, instruction="stack the blocks")

    dataset = lerobot_dataset.LeRobotDataset("local/so101_demos", root=root)
    assert (dataset.num_episodes, dataset.num_frames, dataset.fps) == (2, 16, 30)
    assert dataset.meta.camera_keys == ["observation.images.wrist", "observation.images.front"]
    item = dataset[12]  # episode 1 of the dataset (recorded as episode 2), frame 3
    assert item["task"] == "stack the blocks"
    assert int(item["episode_index"]) == 1 and int(item["frame_index"]) == 3
    expected = degrees.radians_to_normalized(feed_episode.joint_value(2, 3))
    assert item["observation.state"].numpy() == pytest.approx(expected, abs=1e-4)
    assert item["action"].numpy() == pytest.approx(degrees.radians_to_normalized(feed_episode.joint_value(2, 3) + 0.05), abs=1e-4)
    image = item["observation.images.wrist"].numpy()
    assert image.shape == (3, 48, 64)
    assert image.mean() * 255 == pytest.approx(feed_episode.image_value(2, 3), abs=3)
    assert set(dataset.meta.stats["observation.state"]) >= {"mean", "std", "min", "max", "q01", "q99"}
    assert np.asarray(dataset.meta.stats["observation.images.front"]["mean"]).shape == (3, 1, 1)
