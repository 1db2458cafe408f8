"""The intervention flag: which steps an operator drove instead of the policy, in both output formats.

policy → correction → policy in one episode, as the command mux reports it (a change per switch,
timed on arrival); LeRobot's DAgger convention (docs/reference/datasets-mimic.md §4): the feature
`intervention`, bool, shape (1,); the same per step in the Isaac Lab file.
"""
from __future__ import annotations

import json

import h5py
import numpy as np
import pyarrow.parquet as pq

from so101_sim_bridge.recorder import (
    DemoRecorder,
    Hdf5DemoWriter,
    Hdf5WriterConfig,
    LeRobotDatasetWriter,
    LeRobotWriterConfig,
    RecorderConfig,
)

FPS = 30
STEPS = 12
OPERATOR_STEPS = range(4, 8)
"""The operator took over just before step 4's time and handed back just before step 8's."""


def record(tmp_path, degrees, intervention: bool):
    writers = [Hdf5DemoWriter(Hdf5WriterConfig(tmp_path / "demos.hdf5")),
               LeRobotDatasetWriter(LeRobotWriterConfig(tmp_path / "lerobot"), degrees)]
    with DemoRecorder(RecorderConfig(cameras=(), intervention=intervention), writers) as recorder:
        recorder.add_intervention(5.0, False)  # the mux's latched state, heard before the episode
        start = 10.0
        recorder.start(start, "pick up the red cube")
        for i in range(STEPS):
            t = start + i / FPS
            if i in (OPERATOR_STEPS.start, OPERATOR_STEPS.stop):
                recorder.add_intervention(t - 0.01, i == OPERATOR_STEPS.start)
            recorder.add_joint_state(t, np.full(6, 0.01 * i))
            recorder.add_action(t, np.full(6, 0.01 * i + 0.02))
            recorder.advance(t)
        recorder.stop(start + (STEPS - 1) / FPS, success=True)


def expected() -> np.ndarray:
    return np.isin(np.arange(STEPS), OPERATOR_STEPS)


def test_the_steps_an_operator_drove_are_flagged_in_hdf5_and_lerobot(tmp_path, degrees):
    record(tmp_path, degrees, intervention=True)
    with h5py.File(tmp_path / "demos.hdf5", "r") as file:
        flags = file["data/demo_0/intervention"]
        rows = STEPS - 1  # the last step is the last row's post-step state (isaaclab_layout.py)
        assert flags.dtype == bool and flags.shape == (rows, 1)
        np.testing.assert_array_equal(flags[:, 0], expected()[:rows])
    info = json.loads((tmp_path / "lerobot/meta/info.json").read_text())
    assert info["features"]["intervention"] == {"dtype": "bool", "shape": [1], "names": None}
    column = pq.read_table(tmp_path / "lerobot/data/chunk-000/file-000.parquet").column("intervention")
    np.testing.assert_array_equal(column.to_numpy(zero_copy_only=False), expected())
    stats = json.loads((tmp_path / "lerobot/meta/stats.json").read_text())
    assert stats["intervention"]["mean"] == [len(OPERATOR_STEPS) / STEPS]


def test_without_tracking_the_files_have_no_intervention(tmp_path, degrees):
    record(tmp_path, degrees, intervention=False)
    with h5py.File(tmp_path / "demos.hdf5", "r") as file:
        assert "intervention" not in file["data/demo_0"]
    assert "intervention" not in json.loads((tmp_path / "lerobot/meta/info.json").read_text())["features"]
