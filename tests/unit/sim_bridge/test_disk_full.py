"""A filling disk: a clear error, the unfinished episode dropped, every saved demo intact.

The disk is a real 2 MiB tmpfs (mounting needs root, which the dev and CI machines have); where
mounting is not permitted the test is skipped, saying so. The writer's free-space guard (scaled
down to this disk with min_free_bytes) stops the episode before HDF5 meets ENOSPC.
"""
from __future__ import annotations

import gc
import subprocess

import numpy as np
import pytest

from so101_hardware.cameras import Frame
from so101_sim_bridge.recorder import (
    DemoRecorder,
    DiskFullError,
    Hdf5DemoWriter,
    Hdf5WriterConfig,
    RecorderConfig,
    read_hdf5_demos,
)


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {result.stderr.strip()}")
    yield mount_point
    gc.collect()
    subprocess.run(["umount", str(mount_point)], check=True)


def test_disk_full_drops_the_episode_and_keeps_saved_demos(small_disk, feed_episode):
    path = small_disk / "demos.hdf5"
    recorder = DemoRecorder(RecorderConfig(), [Hdf5DemoWriter(Hdf5WriterConfig(path, flush_every=5, min_free_bytes=256 * 1024))])
    assert feed_episode(recorder, 0, 5).saved_as == ("data/demo_0",)

    noise = np.random.default_rng(0)
    recorder.start(50.0, "too big for this disk")
    with pytest.raises(DiskFullError, match="demos already saved in demos.hdf5 are intact"):
        for i in range(400):  # incompressible 120x160 frames: about 115 kB a step for two cameras
            t = 50.0 + i / 30
            recorder.add_joint_state(t, np.zeros(6))
            recorder.add_action(t, np.zeros(6))
            for camera in ("wrist", "front"):
                image = noise.integers(0, 255, (120, 160, 3), dtype=np.uint8)
                recorder.add_frame(camera, Frame(image, i, t, t))
            recorder.advance(t)
    assert not recorder.recording
    assert not (small_disk / "demos.hdf5.recording").exists()  # space given back
    dataset = read_hdf5_demos(path)
    assert [d.index for d in dataset.demos] == [0] and dataset.total == 4  # 5 steps: 4 rows and a last state
    recorder.close()
