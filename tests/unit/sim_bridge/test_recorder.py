"""The recorder's episode lifecycle and how writers fail together."""
from __future__ import annotations

import numpy as np
import pytest

from so101_sim_bridge.recorder import (
    DemoRecorder,
    EpisodeOutcome,
    Hdf5DemoWriter,
    Hdf5WriterConfig,
    RecorderConfig,
    RecorderStateError,
    read_hdf5_demos,
)


class FailingWriter:
    """A writer whose append fails after n steps (a disk that fills up, a broken encoder)."""

    def __init__(self, fail_after: int):
        self.fail_after = fail_after
        self.appended = 0
        self.aborted = 0

    def begin_episode(self, info) -> None:
        self.appended = 0

    def append(self, step) -> None:
        if self.appended == self.fail_after:
            raise OSError("simulated failure")
        self.appended += 1

    def end_episode(self, outcome: EpisodeOutcome):
        return "kept"

    def abort_episode(self) -> None:
        self.aborted += 1

    def close(self) -> None:
        pass


def test_lifecycle_errors_are_clear(tmp_path):
    recorder = DemoRecorder(RecorderConfig(cameras=()), [Hdf5DemoWriter(Hdf5WriterConfig(tmp_path / "d.hdf5"))])
    with pytest.raises(RecorderStateError, match="start one first"):
        recorder.stop(0.0, True)
    recorder.start(0.0, "task")
    with pytest.raises(RecorderStateError, match="already being recorded"):
        recorder.start(1.0, "task")
    with pytest.raises(ValueError, match="6 positions"):
        recorder.add_joint_state(0.0, [0.0] * 5)
    recorder.close()


def test_samples_while_idle_are_ignored_and_discard_keeps_nothing(tmp_path, feed_episode):
    path = tmp_path / "d.hdf5"
    with DemoRecorder(RecorderConfig(), [Hdf5DemoWriter(Hdf5WriterConfig(path))]) as recorder:
        recorder.add_joint_state(0.0, np.zeros(6))
        recorder.start(10.0, "task")
        recorder.add_joint_state(10.0, np.zeros(6))
        recorder.discard()
        assert not recorder.recording
        summary = feed_episode(recorder, 0, 5)
    assert summary.saved_as == ("data/demo_0",)
    assert [d.index for d in read_hdf5_demos(path).demos] == [0]


def test_a_failing_writer_aborts_the_episode_everywhere(tmp_path, feed_episode):
    path = tmp_path / "d.hdf5"
    failing = FailingWriter(fail_after=3)
    recorder = DemoRecorder(RecorderConfig(), [Hdf5DemoWriter(Hdf5WriterConfig(path)), failing])
    with pytest.raises(OSError, match="simulated"):
        feed_episode(recorder, 0, 10)
    assert not recorder.recording and failing.aborted == 1
    assert not (tmp_path / "d.hdf5.recording").exists()
    assert read_hdf5_demos(path).demos == ()
    recorder.close()


def test_summary_counts_steps_and_drops(tmp_path):
    recorder = DemoRecorder(RecorderConfig(cameras=("wrist",)), [Hdf5DemoWriter(Hdf5WriterConfig(tmp_path / "d.hdf5"))])
    recorder.start(0.0, "task")
    for i in range(10):
        t = i / 30
        recorder.add_joint_state(t, np.zeros(6))
        recorder.add_action(t, np.zeros(6))
        recorder.advance(t)  # no camera frames: every step is dropped
    summary = recorder.stop(9 / 30, success=True)
    recorder.close()
    assert summary.steps == 0 and summary.saved_as == (None,)
    assert summary.alignment.steps_dropped == 10 and dict(summary.alignment.missing) == {"wrist": 10}
